"""``tessera-engine bench --foreign``: our decode vs onnxruntime-genai's loop on a real-size chat model.

The model has Qwen2.5-0.5B's dimensions (24 layers, width 896, 14 query and 2 key/value heads,
151,936-token vocabulary) with random weights, built by the bench itself on first use: a
Hugging Face checkpoint from :mod:`engine.foreign` (torch + transformers ≥ 5, in ``--foreign-python``
or this interpreter), exported by onnxruntime-genai's model builder at fp32 and int4 (cached under
the user cache folder). Both loops then decode the same folder, interleaved, greedy: ours is the
engine's decoder for it (:class:`engine.model.boundrunner.BoundDecoder`: bound KV cache), theirs is
genai's ``Generator``, each on one intra-op thread. A ratio above 1 means ours is faster.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .loops import interleaved

QWEN25_05B = {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
              "num_key_value_heads": 2, "max_position_embeddings": 32768, "vocab_size": 151936}
PRECISIONS = ("fp32", "int4")


def default_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("tessera")) / "foreign-bench"


def build(root: Path, python: str) -> dict[str, Path]:
    """The genai folders (fp32, int4) of the Qwen2.5-0.5B-shaped model, built once."""
    from ..foreign.__main__ import export_genai
    from ..foreign.checkpoint import write_checkpoint
    from ..foreign.families import FAMILIES

    folders = {p: root / f"qwen2.5-0.5b-genai-{p}" for p in PRECISIONS}
    if all((f / "genai_config.json").is_file() for f in folders.values()):
        return folders
    hf = root / "qwen2.5-0.5b-hf"
    if not (hf / "model.safetensors").is_file():
        write_checkpoint(FAMILIES["qwen2"], hf, QWEN25_05B)
        subprocess.run([python, "-m", "engine.foreign.weights", str(hf)], check=True,
                       cwd=Path(__file__).resolve().parents[2])
    for precision, folder in folders.items():
        if not (folder / "genai_config.json").is_file():
            export_genai(Path(python), hf, folder, precision, root / "genai-cache")
    return folders


def one_thread(folder: Path) -> None:
    """Run genai's session on one intra-op thread, as ours runs (its default is every core)."""
    path = folder / "genai_config.json"
    config = json.loads(path.read_text())
    config["model"]["decoder"].setdefault("session_options", {})["intra_op_num_threads"] = 1
    path.write_text(json.dumps(config, indent=4) + "\n")


def _ours(folder: Path, prompt: list[int], steps: int):
    from ..model.fastrunner import make_decoder
    from ..model.modelspec import load_spec

    spec = load_spec(folder)
    # No token bans here: genai chooses among every logit (the random model's vocabulary is wider
    # than its tokenizer), and the same greedy tokens show the same work was done.
    spec.ban_bias = np.zeros(spec.config.vocab_size, np.float32)
    dec = make_decoder(spec)
    pages = getattr(dec, "huge_pages", None)
    if pages is not None:
        pages.wait()  # the settled speed: the weights' move to huge pages runs once, after load

    def run() -> tuple[float, list[int]]:
        dec.reset()
        tok = int(np.argmax(dec.prefill(prompt) + dec.spec.ban_bias))
        tokens = []
        t0 = time.perf_counter()
        for _ in range(steps):
            tokens.append(tok)
            tok = dec.forward_greedy([tok])[0]
        return (time.perf_counter() - t0) / steps, tokens

    return run, type(dec).__name__, (pages.collapsed_bytes >> 20) if pages is not None else 0


def foreign_figures(root: Path, python: str, prompt_tokens: int, steps: int, repeats: int) -> dict:
    from .peers import PeerMissing, genai_runner

    t0 = time.perf_counter()
    folders = build(root, python)
    fig: dict = {"foreign_model": "qwen2.5-0.5b dims, random weights", "foreign_build_s": round(time.perf_counter() - t0, 1)}
    prompt = [int(t) for t in np.random.default_rng(3).integers(0, 600, prompt_tokens)]
    for precision, folder in folders.items():
        one_thread(folder)
        ours, decoder, huge_mb = _ours(folder, prompt, steps)
        runs = {"ours": ours}
        try:
            runs["genai"] = genai_runner(folder, prompt, steps)
        except PeerMissing as exc:
            fig["foreign_genai_status"] = f"not installed: {exc}"
        res = interleaved(runs, repeats)
        mine = statistics.median(x[0] for x in res["ours"])
        fig.update({f"foreign_{precision}_decoder": decoder, f"foreign_{precision}_huge_pages_mb": huge_mb,
                    f"foreign_{precision}_ours_tok_s": round(1 / mine, 2)})
        if "genai" in res:
            theirs = statistics.median(x[0] for x in res["genai"])
            fig.update({f"foreign_{precision}_genai_tok_s": round(1 / theirs, 2),
                        f"foreign_{precision}_ratio": round(theirs / mine, 3),
                        f"foreign_{precision}_same_tokens": res["ours"][-1][1] == res["genai"][-1][1][:steps]})
    return fig


def add_foreign_args(p) -> None:
    p.add_argument("--foreign", action="store_true",
                   help="add rows on a Qwen2.5-0.5B-sized chat model (built on first use; needs torch, "
                        "transformers>=5 and onnxruntime-genai)")
    p.add_argument("--foreign-only", action="store_true", help="only the --foreign rows")
    p.add_argument("--foreign-python", default=sys.executable,
                   help="interpreter with torch and transformers>=5 for building the model")
    p.add_argument("--foreign-dir", type=Path, help="where the built model folders are kept")
