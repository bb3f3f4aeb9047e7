"""Step ``card``: write MODEL_CARD.md from what the other steps recorded (data manifest, training
summary, evaluation), so the card's figures are always the measured ones."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from ..skills import REGISTRY

GOALS = {"exact": 0.90, "parses": 0.98, "unchanged": 0.90}
KIND_TITLES = {k.name: k.title for k in REGISTRY}


def _same_as_float32(evaluation: dict) -> list[str]:
    same = evaluation.get("same_text_as_float32")
    if same is None:
        return []
    return [f"The engine decodes with {evaluation.get('weights')} weights (prefill in float32); every edit was decoded",
            f"again with float32 weights: **{100 * same:.2f}%** gave the same text.", ""]


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _table(evaluation: dict) -> list[str]:
    rows = ["| kind | n | exact (AST-equal) | parses | routed by skills | goal met |", "|---|---|---|---|---|---|"]
    for kind, r in evaluation.get("per_kind", {}).items():
        if kind == "out_of_scope":
            met = r["exact"] >= GOALS["unchanged"]
        else:
            met = r["exact"] >= GOALS["exact"] and r["parses"] >= GOALS["parses"]
        rows.append(f"| {KIND_TITLES.get(kind, kind)} | {r['n']} | {100 * r['exact']:.1f}% | {100 * r['parses']:.1f}% "
                    f"| {100 * r['routed']:.0f}% | {'yes' if met else '**no**'} |")
    return rows


def render(cache: Path, model_dir: Path) -> str:
    manifest = _read(model_dir / "data_manifest.json") or _read(cache / "data_manifest.json")
    training = _read(cache / "training_summary.json")
    evaluation = _read(cache / "evaluation.json")
    cfg = _read(model_dir / "config.json")
    notes = (cache / "card_notes.md").read_text() if (cache / "card_notes.md").is_file() else ""
    size_mb = sum(p.stat().st_size for p in model_dir.iterdir() if p.is_file()) / 1e6
    tc = training.get("train_config", {})
    eng = evaluation.get("engine", {})
    lines = [
        "# tessera-edit-mini",
        "",
        "Tessera's bundled code-edit model: a small draft-conditioned decoder that rewrites a selected Python",
        "function for a handful of everyday instructions, offline, on a CPU. It writes the edited code (for",
        "f-strings and docstrings only the statements that change); for anything outside its skills it",
        "returns the code unchanged and the engine tells the user.",
        "",
        "## Skills",
        "",
        "- `rename variable OLD to NEW` (also `rename OLD to NEW`): every use of a local or parameter.",
        "- `rename function OLD to NEW`: the definition and recursive calls (`OLD(...)`, `self.OLD(...)`).",
        "- `add a docstring`: a one-line summary built from the name and parameters",
        "  (`def parse_header(self, line)` → `\"\"\"Parse header given line.\"\"\"`).",
        "- `remove print statements` / `remove debug prints`.",
        "- `convert to f-strings` (`str.format` and `%` formatting).",
        "",
        "The exact instruction patterns are the `skills` of `tessera.json`.",
        "",
        "## How it works",
        "",
        "Prompt `<code> source <instr> instruction <edit>`, output the edited code then `<end>`",
        "(`engine/model/prompts.py`). Besides the previous token, each position receives three draft tokens",
        "(`draft`, `draft_next`, `source`; extra ONNX inputs declared in `tessera.json`) computed by",
        "`engine/model/align.py` and `engine/skills/`, the same code in training and in the engine: a *predicted output*",
        "followed by a pointer that tracks the output like prompt-lookup decoding. The predicted output is",
        "the skill's own rule written in the source's text where the skill has one (`predicted_text` in",
        "engine/skills/__init__.py: a rename at the name nodes `ast` finds, keyword arguments and strings spared;",
        "the template docstring after the header's colon; each `.format`/`%` rewritten as an f-string piece",
        "by piece, braces doubled), else a token-level rewrite of the source's tokens (print lines dropped).",
        "The model learns when to take the draft and when it is wrong (a print that is a block's only",
        "statement, f-string quoting, a field the draft spells badly).",
        "",
        "The engine around it (engine/decode/): for f-strings and docstrings only the statements the rule",
        "changes go through the model, each a window of its own, the rest passed on as it is",
        "(`focused_plan` in windows.py); the output keeps the source's tokens up to the first change the",
        "rule makes (`kept` in drafts.py); a target longer than the context is cut into windows at",
        "statement starts. Where the rule wrote the whole predicted output, the engine *steers* greedy",
        "decoding toward it (`_Run.steer` in loop.py): the draft's token is taken where the model gives",
        "it at least a tenth of the probability of its own first choice, and the output may not end before",
        "it ends as the source does after the rule's last change (a dropped closing bracket); plain and",
        "speculative decoding steer alike, and `done.stats.steered_tokens` counts the tokens it changed.",
        "",
        "## Architecture",
        "",
        f"Llama-style decoder: {cfg.get('num_hidden_layers')} layers, width {cfg.get('hidden_size')}, "
        f"{cfg.get('num_attention_heads')} query heads / {cfg.get('num_key_value_heads')} key-value heads of "
        f"{cfg.get('head_dim')}, SwiGLU {cfg.get('intermediate_size')}, RMSNorm, RoPE, tied embeddings, "
        f"vocabulary {cfg.get('vocab_size')}, context {cfg.get('max_position_embeddings')} tokens; "
        f"{training.get('parameters', 0) / 1e6:.2f}M parameters (three draft embedding tables included). "
        "The ONNX graph is built from the named weights by `engine/model/graph.py` (Optimum layout, KV cache), "
        f"float32; the folder holds {size_mb:.1f} MB.",
        "",
        "Tokenizer: byte-level BPE, 2,048 tokens, trained on the training functions with a pre-tokenizer",
        "that keeps identifiers context-free (no leading-space variants), `_` separate, newline+indent",
        "tokens, single-character punctuation (`engine/training/tokenizer.py`).",
        "",
        "## Data and licence",
        "",
        f"Functions of the CPython {manifest.get('python', '')} standard library installed on the build machine",
        f"({manifest.get('source', '')}). {len(manifest.get('files_used', []))} files (listed in `data_manifest.json`); "
        "whole files are held out (10%, by a hash of the path). Two views of each function:",
        "",
        f"- **as written** ({manifest.get('written_functions', {}).get('train', '?')} training functions): each",
        "  function's whole lines, decorators included, as the app selects them, framed by the engine's own",
        "  `frame_for` (engine/decode/reframe.py: dedented, non-ASCII text as placeholders); comments, quotes, blank",
        "  lines, continuation lines and docstrings kept; targets longer than the context cut by the engine's",
        "  `plan` (engine/decode/windows.py) into windows. Edits are made on the text at `ast` positions and kept only",
        "  when AST-equal to the tree-level edit (engine/training/written.py); also renames of a header alone",
        "  (the window before a docstring longer than a window);",
        f"- **normalised** with `ast.unparse`, 40–600 characters ({manifest.get('functions', {}).get('train', '?')} training, "
        f"{manifest.get('functions', {}).get('eval', '?')} held-out functions): the form of the held-out table below.",
        "",
        "The test suites are used only for f-string pairs (rare in library code). Pairs: renames, docstring",
        "insertion (the stdlib's own docstring removed first), prints injected then removed, f-strings of",
        "the stdlib rewritten into `.format`/`%` (reverse) and real `.format`/`%` code converted (forward),",
        "and out-of-scope instructions with the code unchanged.",
        f"Training pairs per kind (all): `{json.dumps(manifest.get('pairs', {}).get('train', {}))}`; of them as written:",
        f"`{json.dumps(manifest.get('pairs', {}).get('train_written', {}))}`, header renames: "
        f"`{json.dumps(manifest.get('pairs', {}).get('train_headers', {}))}`.",
        "",
        "## Training",
        "",
        *([f"Fine-tuned from {training['init_from']}."] if training.get("init_from") else []),
        f"{training.get('minutes', '?')} minutes on {os.cpu_count()} shared CPU cores ({platform.processor() or platform.machine()}), "
        f"torch CPU, {tc.get('threads', 1)} thread; {training.get('steps', '?')} steps, "
        f"{training.get('tokens', 0) / 1e6:.1f}M tokens (prompt included; loss on the output only); AdamW, peak lr "
        f"{tc.get('lr')}, warm-up then cosine on wall-clock time; 20% of sequences have one corrupted output",
        "input token (targets unchanged) so the model learns to recover when the pointer drifts.",
        "",
        f"## Evaluation (held-out files, greedy, the engine's decoder: {evaluation.get('decoder', '?')}, "
        f"{evaluation.get('weights', 'float32')} weights)",
        "",
        *_same_as_float32(evaluation),
        *_table(evaluation),
        "",
        "exact: output AST-equal to the expected edit (out of scope: to the unchanged source); parses:",
        "`ast.parse` accepts the output; routed: the `skills` patterns send the instruction to its skill",
        "(out of scope: to none). Goals: ≥ 90% exact and ≥ 98% parses per kind; ≥ 90% unchanged.",
        "",
        "Decode speed (one onnxruntime thread, on a 2-core machine shared with other work while measured):",
        "",
        f"- through the engine (`engine.decode.session.Engine`, as `tessera-engine generate` runs an edit: fused graph,",
        f"  speculative drafts verified in batches): median **{eng.get('tok_s_median', '?')} tok/s** over "
        f"{eng.get('n', '?')} held-out edits ({100 * eng.get('exact', 0):.0f}% of them exact);",
        f"- one token per step, no speculation: median {evaluation.get('decode_tok_s_median', '?')} tok/s with the "
        f"engine's {evaluation.get('decoder', '?')}, {evaluation.get('plain_graph_tok_s_median', '?')} tok/s with the "
        "plain graph (`engine.model.runner.OnnxDecoder`); prefill excluded.",
        "",
        notes,
        "## Reproduce",
        "",
        "```",
        "pip install -e .[train]   # torch, CPU",
        "# a focused fine-tune of this model (as this model was made from the one before it):",
        "python -m engine.training data --init-from resources/models/tessera-edit-mini",
        "python -m engine.training tokenizer --init-from resources/models/tessera-edit-mini   # kept",
        "python -m engine.training subset --from-cache .cache --cache .cache/focus --focus fstring --others 3000 --seed 1",
        "python -m engine.training train --init-from resources/models/tessera-edit-mini --cache .cache/focus --minutes 40 --lr 0.0003",
        "python -m engine.training export --cache .cache/focus --model-dir .cache/tuned",
        "python -m engine.training evaluate --cache .cache/focus --model-dir .cache/tuned",
        "python -m engine.bench.acceptance --model .cache/tuned; python -m engine.bench.acceptance --source stdlib --model .cache/tuned",
        "# from scratch: python -m engine.training all --minutes 95 (trains its own tokenizer)",
        "# or step by step: data, tokenizer, train (resumable), export (parity-checked), evaluate, card",
        "```",
        "",
    ]
    return "\n".join(lines)


def run(cache: Path, model_dir: Path) -> None:
    (model_dir / "MODEL_CARD.md").write_text(render(cache, model_dir))
