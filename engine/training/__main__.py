"""``python -m engine.training <step>``: data → tokenizer → train → export → evaluate → card, or all.

Intermediate files live in ``.cache/`` at the repository root (ignored by git); the shipped model
folder is ``resources/models/tessera-edit-mini``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
MODEL_DIR = ROOT / "resources" / "models" / "tessera-edit-mini"
CONTEXT_LENGTH = 512  # tokens: prompt + output of the longest training function

STEPS = ("data", "tokenizer", "train", "export", "evaluate", "card")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def step_data(args) -> None:
    from ..model.tokenizer import load_tokenizer
    from . import data

    tok_path = args.init_from / "tokenizer.json" if args.init_from else args.cache / "tokenizer.json"
    count = None
    if tok_path.is_file():  # windows are cut by token counts (a fresh run trains its tokenizer after the data)
        tok = load_tokenizer(tok_path)
        count = lambda text: len(tok.encode(text, add_special_tokens=False).ids)  # noqa: E731
    manifest = data.run(args.cache, seed=args.seed, count=count, context=CONTEXT_LENGTH)
    log(f"pairs: {json.dumps(manifest['pairs'])}; functions {manifest['functions']}")


def step_tokenizer(args) -> None:
    from . import spec, tokenizer
    from .data import read_jsonl

    if args.init_from:  # fine-tuning keeps the vocabulary of the model it starts from
        from ..model.tokenizer import load_tokenizer

        tok = load_tokenizer(args.init_from / "tokenizer.json")
        tokenizer.save(tok, args.cache / "tokenizer.json")
        spec.write(args.cache / "tessera.json", tok, CONTEXT_LENGTH)
        (args.cache / "train_encoded.npz").unlink(missing_ok=True)
        log(f"tokenizer kept from {args.init_from}")
        return
    pairs = read_jsonl(args.cache / "train.jsonl")
    texts = [p.source for p in pairs[::3]] + [p.target for p in pairs[1::3]] + [p.instruction for p in pairs]
    tok = tokenizer.train_tokenizer(texts)
    tokenizer.save(tok, args.cache / "tokenizer.json")
    spec.write(args.cache / "tessera.json", tok, CONTEXT_LENGTH)
    (args.cache / "train_encoded.npz").unlink(missing_ok=True)  # encoded with the old vocabulary
    chars = sum(len(p.source) for p in pairs[:2000])
    toks = sum(len(tok.encode(p.source, add_special_tokens=False).ids) for p in pairs[:2000])
    log(f"tokenizer: {tok.get_vocab_size()} tokens, {chars / toks:.2f} characters/token on sources")


def _encoded(args):
    from ..model.tokenizer import load_tokenizer  # encodes text exactly as the engine will
    from ..skills.tokens import vocabulary_from_spec
    from .data import read_jsonl
    from .encode import Encoded, encode_pairs

    path = args.cache / "train_encoded.npz"
    tok = load_tokenizer(args.cache / "tokenizer.json")
    if path.is_file():
        return Encoded.load(path), tok
    vocab = vocabulary_from_spec(json.loads((args.cache / "tessera.json").read_text())["aligner"])
    t = time.monotonic()
    enc = encode_pairs(tok, vocab, read_jsonl(args.cache / "train.jsonl"), args.seed, CONTEXT_LENGTH)
    enc.save(path)
    log(f"encoded {len(enc.kinds)} sequences, {len(enc.ids) / 1e6:.1f}M tokens in {time.monotonic() - t:.0f} s")
    return enc, tok


def step_train(args) -> None:
    from . import train

    enc, tok = _encoded(args)
    cfg = train.TrainConfig(minutes=args.minutes, threads=args.threads, seed=args.seed,
                            **({"lr": args.lr} if args.lr else {}))
    init = args.init_from / "model.onnx" if args.init_from else None
    train.run(args.cache, enc, tok.get_vocab_size(), CONTEXT_LENGTH, cfg, log=log, init_from=init)


def step_subset(args) -> None:
    """A cache for a focused fine-tune: every training pair of the ``--focus`` kinds and ``--others``
    pairs of each other kind (so that they are not forgotten), drawn from ``--from-cache``'s pairs;
    its tokenizer, spec and evaluation pairs copied."""
    import random
    import shutil

    from .data import read_jsonl

    if not args.focus:
        raise SystemExit("subset: name the kinds to focus on with --focus KIND[,KIND]")
    focus = set(args.focus.split(","))
    rng = random.Random(args.seed)
    lines = (args.from_cache / "train.jsonl").read_text().splitlines(keepends=True)
    kinds = [p.kind for p in read_jsonl(args.from_cache / "train.jsonl")]
    by_kind: dict[str, list[str]] = {}
    for kind, line in zip(kinds, lines):
        by_kind.setdefault(kind, []).append(line)
    out = [ln for kind, ln in zip(kinds, lines) if kind in focus]  # in file order
    for k in by_kind:  # the other kinds in order of first appearance
        if k not in focus:
            out += rng.sample(by_kind[k], min(args.others, len(by_kind[k])))
    rng.shuffle(out)
    (args.cache / "train.jsonl").write_text("".join(out))
    for name in ("tokenizer.json", "tessera.json", "eval.jsonl", "eval_written.jsonl", "data_manifest.json"):
        if (args.from_cache / name).is_file():
            shutil.copy(args.from_cache / name, args.cache / name)
    (args.cache / "train_encoded.npz").unlink(missing_ok=True)
    log(f"{len(out)} pairs: all of {sorted(focus)}, {args.others} of each other kind")


def step_average(args) -> None:
    from . import average

    if not args.average:
        raise SystemExit("average: name the two model folders with --average FIRST SECOND")
    first, second = args.average
    n = average.run(first, second, args.model_dir, args.weight)
    log(f"{args.model_dir}: {args.weight} x {first} + {1 - args.weight:g} x {second} ({n} weight tensors)")


def step_export(args) -> None:
    from . import export

    export.run(args.cache, args.model_dir, log=log)


def step_evaluate(args) -> None:
    from . import evaluate

    evaluate.run(args.cache, args.model_dir, per_kind=args.per_kind, log=log)


def step_card(args) -> None:
    from . import card

    card.run(args.cache, args.model_dir)
    log(f"wrote {args.model_dir / 'MODEL_CARD.md'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine.training", description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=[*STEPS, "average", "subset", "all"])
    ap.add_argument("--cache", type=Path, default=CACHE, help="intermediate files (default .cache/)")
    ap.add_argument("--model-dir", type=Path, default=MODEL_DIR, help="the model folder to write")
    ap.add_argument("--minutes", type=float, default=60.0, help="training budget, whole run")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for training")
    ap.add_argument("--per-kind", type=int, default=200, help="evaluation pairs per kind")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init-from", type=Path, default=None,
                    help="fine-tune: start from this model folder's weights and keep its tokenizer")
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate (default: TrainConfig's)")
    ap.add_argument("--average", type=Path, nargs=2, metavar=("FIRST", "SECOND"), default=None,
                    help="average: the two model folders whose weights are averaged into --model-dir")
    ap.add_argument("--weight", type=float, default=0.5, help="average: the first model's share")
    ap.add_argument("--from-cache", type=Path, default=CACHE, help="subset: the cache whose pairs are drawn from")
    ap.add_argument("--focus", default="", help="subset: the kinds whose every pair is kept (comma-separated)")
    ap.add_argument("--others", type=int, default=3000, help="subset: pairs kept of each other kind")
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    steps = STEPS if args.step == "all" else (args.step,)
    for name in steps:
        log(f"step {name}")
        globals()[f"step_{name}"](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
