"""Step ``data``: build balanced edit pairs from the stdlib and write them as JSON lines.

Training pairs come from the training files only, evaluation pairs from the held-out files. Each
training function is used several times per kind with different random choices (names, which
prints, which formatting style), so rare kinds are not starved.
"""

from __future__ import annotations

import ast
import json
import random
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from .corpus import Function, load_functions, stdlib_root
from .pairs import BUILDERS, KINDS, EditPair, build_fstring_forward, identifiers

TRAIN_PER_KIND = 24000  # pairs per kind for training
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


def run(cache: Path, seed: int = 0) -> dict:
    funcs, used = load_functions()
    train = [f for f in funcs if f.split == "train"]
    held = [f for f in funcs if f.split == "eval"]
    pool = name_pool([f.code for f in train if not f.from_tests])
    rng = random.Random(seed)
    train_pairs = build_pairs(train, TRAIN_PER_KIND, MAX_USES, rng, pool)
    eval_pairs = build_pairs(held, EVAL_PER_KIND, 1, random.Random(seed + 1), pool)
    write_jsonl(cache / "train.jsonl", train_pairs)
    write_jsonl(cache / "eval.jsonl", eval_pairs)
    eval_files = sorted({f.path for f in funcs if f.split == "eval"})
    manifest = {
        "source": "CPython standard library (PSF License Version 2)",
        "python": sys.version.split()[0],
        "stdlib_root": str(stdlib_root()),
        "files_used": used,
        "eval_files": eval_files,
        "functions": {"train": len(train), "eval": len(held),
                      "from_tests": sum(f.from_tests for f in funcs)},
        "pairs": {"train": dict(Counter(p.kind for p in train_pairs)),
                  "eval": dict(Counter(p.kind for p in eval_pairs))},
        "seed": seed,
    }
    (cache / "data_manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
