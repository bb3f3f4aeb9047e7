"""The training corpus: functions from the CPython standard library on this machine (PSF licence).

Every function is normalised by ``ast.unparse`` (one statement per line, canonical quotes), so an
edit's expected output is unambiguous and AST-equality is the exact-match test. Whole files are
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
    code: str  # ast.unparse of the function, unindented
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


def load_functions(root: Path | None = None) -> tuple[list[Function], list[str]]:
    """All usable functions, deduplicated by text (first file wins), and the files read."""
    root = root or stdlib_root()
    seen: set[str] = set()
    funcs: list[Function] = []
    used: list[str] = []
    for path in stdlib_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        found = 0
        for code in functions_in(text):
            if code in seen:
                continue
            seen.add(code)
            funcs.append(Function(rel, code, split_of(rel), bool(TEST_DIRS.intersection(rel.split("/")))))
            found += 1
        if found:
            used.append(rel)
    return funcs, used
