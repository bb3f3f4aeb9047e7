"""Step ``data``: build balanced edit pairs from the stdlib and write them as JSON lines.

Training pairs come from the training files only, evaluation pairs from the held-out files. Each
training function is used several times per kind with different random choices (names, which
prints, which formatting style), so rare kinds are not starved. Most training pairs are functions
as written (engine/training/written.py: comments, quotes, decorators, methods dedented as the
engine dedents them, long ones in the engine's windows); some are ``ast.unparse``-normalised
(the pair builders of engine/skills/), the form the held-out evaluation pairs keep for comparison with
earlier models.
"""

from __future__ import annotations

import ast
import json
import random
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from .corpus import Function, load_functions, load_written, stdlib_root
from ..skills import BUILDERS, KINDS, EditPair, build_fstring_forward
from ..skills.rename import identifiers

TRAIN_PER_KIND = 2500  # normalised pairs per kind for training
# As-written pairs (windows counted) per kind for training: more of the kinds real code gets wrong
# most often (f-strings over several lines, prints between comments, docstrings of methods).
WRITTEN_PER_KIND = {"fstring": 16000, "remove_prints": 13000, "add_docstring": 12000,
                    "rename_variable": 11000, "rename_function": 7000, "out_of_scope": 7000}
HEADER_PER_KIND = 1200  # renames of a header alone (its long docstring in the next window)
WINDOWS_PER_TARGET = 3  # at most this many windows of one long target
EVAL_PER_KIND = 200  # pairs per kind held out
MAX_USES = 8  # how often one function may serve one kind


def name_pool(codes: list[str]) -> list[str]:
    """Identifiers of the training functions, for the new names of renames."""
    names = set()
    for code in codes:
        names.update(n for n in identifiers(ast.parse(code)) if n.isidentifier() and 2 <= len(n) <= 14)
    return sorted(names)


# Kinds that also draw on the stdlib's test suites: f-string edits are rare in library code.
WITH_TESTS = {"fstring"}


def build_pairs(funcs: list[Function], per_kind: int, uses: int, rng: random.Random, pool: list[str]) -> list[EditPair]:
    out: list[EditPair] = []
    for kind in KINDS:
        codes = [f.code for f in funcs if kind in WITH_TESTS or not f.from_tests]
        if kind == "fstring":  # cheap text filter first: few functions format strings at all
            codes = [c for c in codes if "f'" in c or 'f"' in c or "format(" in c or "%" in c]
        builders = [BUILDERS[kind]] + ([build_fstring_forward] if kind == "fstring" else [])
        made = 0
        for _ in range(uses):
            order = list(codes)
            rng.shuffle(order)
            for code in order:
                if made >= per_kind:
                    break
                for build in builders:
                    pair = build(code, rng, pool)
                    if pair is not None and made < per_kind:
                        out.append(pair)
                        made += 1
            if made >= per_kind:
                break
    rng.shuffle(out)
    return out


def build_written_pairs(funcs: list[Function], per_kind: int | dict, uses: int, rng: random.Random, pool: list[str],
                        count, context: int) -> list[EditPair]:
    """As-written pairs (engine/training/written.py), whole or in the engine's windows."""
    from ..skills import touches
    from . import windowed, written

    out: list[EditPair] = []
    for kind in KINDS:
        codes = [f.code for f in funcs if kind in WITH_TESTS or not f.from_tests]
        if kind == "fstring":
            codes = [c for c in codes if "f'" in c or 'f"' in c or "format(" in c or "%" in c]
        want = per_kind[kind] if isinstance(per_kind, dict) else per_kind
        made = 0
        for _ in range(uses):
            order = list(codes)
            rng.shuffle(order)
            for code in order:
                if made >= want:
                    break
                for instruction, source, target, edits in written.build(kind, code, rng, pool):
                    wins = windowed.windows_of(source, target, edits, instruction, count, context,
                                              first_only=kind == "add_docstring")
                    if len(wins) > 1:  # windows the engine passes on without the model teach nothing
                        wins = [(s, t) for s, t in wins if touches(kind, instruction, s)]
                    if len(wins) > WINDOWS_PER_TARGET:
                        wins = rng.sample(wins, WINDOWS_PER_TARGET)
                    for src, tgt in wins:
                        if made < want:
                            out.append(EditPair(kind, instruction, src, tgt))
                            made += 1
            if made >= want:
                break
    rng.shuffle(out)
    return out


def build_header_pairs(funcs: list[Function], per_kind: int, rng: random.Random, pool: list[str]) -> list[EditPair]:
    """Renames of a definition's header alone (windowed.header_pair), for the engine's header windows."""
    from . import windowed

    out: list[EditPair] = []
    for kind in ("rename_variable", "rename_function"):
        order = [f.code for f in funcs if not f.from_tests]
        rng.shuffle(order)
        made = 0
        for code in order:
            if made >= per_kind:
                break
            try:
                got = windowed.header_pair(kind, code, rng, pool)
            except (SyntaxError, ValueError):
                continue
            if got is not None:
                out.append(EditPair(kind, *got))
                made += 1
    return out


def write_jsonl(path: Path, pairs: list[EditPair]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for p in pairs:
            f.write(json.dumps(asdict(p)) + "\n")


def read_jsonl(path: Path) -> list[EditPair]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `python -m engine.training data` first")
    with path.open(encoding="utf-8") as f:
        return [EditPair(**json.loads(line)) for line in f]


def run(cache: Path, seed: int = 0, count=None, context: int = 512) -> dict:
    """`count`: tokens of a text with the model's tokenizer (for the engine's windows)."""
    count = count or (lambda text: len(text) // 3)  # no tokenizer yet: about 3 characters a token
    funcs, used = load_functions()
    train = [f for f in funcs if f.split == "train"]
    held = [f for f in funcs if f.split == "eval"]
    pool = name_pool([f.code for f in train if not f.from_tests])
    rng = random.Random(seed)
    train_pairs = build_pairs(train, TRAIN_PER_KIND, MAX_USES, rng, pool)
    written = load_written()
    w_train = [f for f in written if f.split == "train"]
    w_pairs = build_written_pairs(w_train, WRITTEN_PER_KIND, MAX_USES, random.Random(seed + 2), pool, count, context)
    w_eval = build_written_pairs([f for f in written if f.split == "eval"], EVAL_PER_KIND, 1,
                                 random.Random(seed + 3), pool, count, context)
    h_pairs = build_header_pairs(w_train, HEADER_PER_KIND, random.Random(seed + 4), pool)
    train_pairs = train_pairs + w_pairs + h_pairs
    rng.shuffle(train_pairs)
    eval_pairs = build_pairs(held, EVAL_PER_KIND, 1, random.Random(seed + 1), pool)
    write_jsonl(cache / "train.jsonl", train_pairs)
    write_jsonl(cache / "eval.jsonl", eval_pairs)
    write_jsonl(cache / "eval_written.jsonl", w_eval)
    eval_files = sorted({f.path for f in funcs if f.split == "eval"})
    manifest = {
        "source": "CPython standard library (PSF License Version 2)",
        "python": sys.version.split()[0],
        "stdlib_root": str(stdlib_root()),
        "files_used": used,
        "eval_files": eval_files,
        "functions": {"train": len(train), "eval": len(held),
                      "from_tests": sum(f.from_tests for f in funcs)},
        "written_functions": {"train": len(w_train), "eval": len(written) - len(w_train)},
        "pairs": {"train": dict(Counter(p.kind for p in train_pairs)),
                  "train_written": dict(Counter(p.kind for p in w_pairs)),
                  "train_headers": dict(Counter(p.kind for p in h_pairs)),
                  "eval": dict(Counter(p.kind for p in eval_pairs)),
                  "eval_written": dict(Counter(p.kind for p in w_eval))},
        "seed": seed,
    }
    (cache / "data_manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
