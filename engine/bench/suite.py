"""Inputs of ``tessera-engine bench``: the edit suite and the long file for the TTFT figure.

The edit suite takes held-out functions (the evaluation split of :mod:`engine.training.corpus`,
files the bundled model never saw) and the bundled model's instruction kinds, built by
:mod:`engine.skills`. Without the training package, or with ``--quick``, a few built-in
functions stand in.
"""

from __future__ import annotations

import random

from ..model.modelspec import ModelSpec
from ..skills import BUILDERS
from ..skills import EDIT_KINDS as KINDS

MAX_FUNCTIONS_SCANNED = 3000  # held-out functions read at most while filling the kinds

BUILTIN = [
    ("rename the variable total to acc",
     "def mean(values):\n    total = 0\n    for v in values:\n        total += v\n    return total / len(values)\n"),
    ("add a docstring",
     "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n    return x\n"),
    ("remove the print statements",
     "def load(path):\n    print('loading', path)\n    with open(path) as f:\n        data = f.read()\n"
     "    print(len(data))\n    return data\n"),
    ("convert to f-strings",
     "def greet(name, n):\n    return 'hello {} you have {} messages'.format(name, n)\n"),
]


def _fits(spec: ModelSpec, code: str) -> bool:
    """Prompt (source + instruction) and output (about the source again) inside the context."""
    n = len(spec.tokenizer.encode(code, add_special_tokens=False).ids)
    return 2 * n + 64 < spec.context_length


def edit_cases(spec: ModelSpec, per_kind: int, quick: bool) -> list[tuple[str, str]]:
    """(instruction, code) pairs: `per_kind` of each kind, deterministic."""
    if quick:
        return [c for c in BUILTIN if _fits(spec, c[1])][: max(1, per_kind)]
    try:
        from ..training.corpus import functions_in, split_of, stdlib_files, stdlib_root
    except ImportError:
        return [c for c in BUILTIN if _fits(spec, c[1])]
    root = stdlib_root()
    found: dict[str, list[tuple[str, str]]] = {k: [] for k in KINDS}
    pool = ["value", "item", "result", "count", "total_size", "make_key", "entry"]
    scanned = 0
    for path in stdlib_files(root):
        if split_of(path.relative_to(root).as_posix()) != "eval":
            continue
        try:
            functions = functions_in(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        for code in functions:
            scanned += 1
            if not _fits(spec, code):
                continue
            for kind in KINDS:
                if len(found[kind]) < per_kind:
                    pair = BUILDERS[kind](code, random.Random(scanned), pool)
                    if pair is not None and _fits(spec, pair.source):
                        found[kind].append((pair.instruction, pair.source))
                        break
        if scanned >= MAX_FUNCTIONS_SCANNED or all(len(v) >= per_kind for v in found.values()):
            break
    return [case for kind in KINDS for case in found[kind]]


def long_file(spec: ModelSpec, tokens: int) -> tuple[str, tuple[int, int]]:
    """A Python file of at least `tokens` tokens and the character span of a function in its middle."""
    parts: list[str] = []
    n = i = 0
    while n < tokens:
        instruction, code = BUILTIN[i % len(BUILTIN)]
        code = code.replace("def ", f"def f{i}_", 1)
        parts.append(code)
        n += len(spec.tokenizer.encode(code + "\n", add_special_tokens=False).ids)
        i += 1
    mid = len(parts) // 2
    start = sum(len(p) + 1 for p in parts[:mid])
    return "\n".join(parts) + "\n", (start, start + len(parts[mid]))
