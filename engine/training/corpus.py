"""The training corpus: functions from the CPython standard library on this machine (PSF licence).

Two views of every function: normalised by ``ast.unparse`` (one statement per line, canonical
quotes; ``load_functions``), and as written, framed as the engine frames a selection
(``load_written``: comments, quotes, decorators, blank lines kept; engine/decode/reframe.py dedents it and
puts placeholders for non-ASCII text). AST-equality is the exact-match test for both. Whole files are
held out for evaluation, chosen by a hash of their relative path, so the split does not depend on
the order files are found in or on the random seed.
"""

from __future__ import annotations

import ast
import hashlib
import sysconfig
import warnings
from dataclasses import dataclass
from pathlib import Path

MIN_CHARS = 40  # shorter functions teach nothing
MAX_CHARS = 600  # keeps prompt + output inside the context window
MAX_LINES = 24  # long functions are rare in quick edits
HOLDOUT_PERCENT = 10  # of files, for evaluation


@dataclass
class Function:
    path: str  # file, relative to the stdlib root
    code: str  # ast.unparse of the function, unindented (load_written: as written, framed)
    split: str  # "train" or "eval"
    from_tests: bool  # from the stdlib's test suites (used only where a kind is rare elsewhere)


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


TEST_DIRS = {"test", "tests", "idle_test"}


def stdlib_files(root: Path | None = None) -> list[Path]:
    """Python files of the stdlib, test suites included, without lib2to3 (its fixtures are
    Python 2) and site-packages (not the stdlib's licence)."""
    root = root or stdlib_root()
    skip = {"site-packages", "lib2to3", "__pycache__"}
    return sorted(p for p in root.rglob("*.py") if not skip.intersection(p.relative_to(root).parts))


def split_of(rel_path: str) -> str:
    digest = hashlib.sha256(rel_path.encode()).digest()
    return "eval" if digest[0] * 100 // 256 < HOLDOUT_PERCENT else "train"


def functions_in(source: str) -> list[str]:
    """Unparsed functions (methods and nested ones included) within the size limits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.decorator_list = []  # decorators belong to the caller's view, not the edit
            try:
                code = ast.unparse(node)
            except (ValueError, RecursionError):
                continue
            if MIN_CHARS <= len(code) <= MAX_CHARS and code.count("\n") < MAX_LINES and code.isascii():
                out.append(code)
    return out


def _texts(root: Path):
    """(path relative to root, text) of every stdlib file that reads as UTF-8."""
    for path in stdlib_files(root):
        try:
            yield path.relative_to(root).as_posix(), path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue


def _function(rel: str, code: str) -> Function:
    return Function(rel, code, split_of(rel), bool(TEST_DIRS.intersection(rel.split("/"))))


def load_functions(root: Path | None = None) -> tuple[list[Function], list[str]]:
    """All usable functions, deduplicated by text (first file wins), and the files read."""
    root = root or stdlib_root()
    seen: set[str] = set()
    funcs: list[Function] = []
    used: list[str] = []
    for rel, text in _texts(root):
        found = 0
        for code in functions_in(text):
            if code in seen:
                continue
            seen.add(code)
            funcs.append(_function(rel, code))
            found += 1
        if found:
            used.append(rel)
    return funcs, used


WRITTEN_MAX_CHARS = 8000  # as-written targets longer than the context are cut into windows


def written_in(text: str) -> list[str]:
    """Functions as the model sees them in the engine: each one's whole lines (decorators included,
    as the app selects them) through engine/decode/reframe.py ``frame_for`` (dedented, placeholders for
    non-ASCII text); comments, quotes, blank lines and docstrings as written."""
    from ..decode.reframe import frame_for
    from .written import line_offsets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return []
    offs = line_offsets(text)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            end = offs[node.end_lineno] if node.end_lineno < len(offs) else len(text)
            code = frame_for(text, offs[first - 1], end).model_code
            if not MIN_CHARS <= len(code) <= WRITTEN_MAX_CHARS:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    ast.parse(code)
                except (SyntaxError, ValueError):
                    continue  # e.g. a string's lines at column 0 inside a method: not dedentable
            out.append(code)
    return out


def load_written(root: Path | None = None) -> list[Function]:
    """All as-written functions of the stdlib, deduplicated by text (first file wins)."""
    root = root or stdlib_root()
    seen: set[str] = set()
    funcs: list[Function] = []
    for rel, text in _texts(root):
        if "\t" in text or "\r" in text:
            continue
        for code in written_in(text):
            if code not in seen:
                seen.add(code)
                funcs.append(_function(rel, code))
    return funcs
