"""Whether a finished edit is the edit its skill makes: each skill's own rule (the one its training
pairs are built with) applied to the source with ``ast``, compared with the model's output.

A small model can write code that parses and is still not the edit asked for: a rename that
missed a use, an f-string that dropped an argument, a print removed with the line after it. The
engine checks every finished edit of a skill this way and sends a ``not_the_edit`` notice naming
the first line that differs, so the user reviews it instead of reading "Done". Only a model that
declares these skills is checked; a source or output that does not parse is left to the parse
check (engine/decode/degenerate.py).
"""

from __future__ import annotations

import ast
import copy

from .fstrings import Modernise
from .kind import has_docstring, parsed
from .prints import remove_prints
from .rename import defines, names_in, rename_in

WHAT = {"rename_variable": "renaming {old} to {new}", "rename_function": "renaming {old} to {new}",
        "remove_prints": "removing the print statements", "fstring": "converting the string formatting to f-strings",
        "add_docstring": "adding a docstring"}


def _functions(tree: ast.AST) -> list[ast.AST]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _expected(kind: str, names: tuple[str, str] | None, tree: ast.Module) -> ast.Module | None:
    """The source tree with the skill's edit made (in place), or None where the rule does not say."""
    if kind in ("rename_variable", "rename_function"):
        if names is None:
            return None
        rename_in(tree, *names, function=kind == "rename_function" or defines(tree, names[0]))
    elif kind == "remove_prints":
        remove_prints(tree)
    elif kind == "fstring":
        Modernise().visit(tree)
    else:
        return None
    return tree


def _flat(tree: ast.AST) -> list[tuple[int, str]]:
    """Every statement in source order as (line, its dump without the blocks it holds)."""
    out: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        blocks = [f for f, v in ast.iter_fields(node) if isinstance(v, list) and v
                  and isinstance(v[0], (ast.stmt, ast.excepthandler, ast.match_case))]
        if isinstance(node, (ast.stmt, ast.excepthandler)):
            head = copy.copy(node)
            for f in blocks:
                setattr(head, f, [])
            out.append((getattr(node, "lineno", 0), ast.dump(head)))
        for f in blocks:
            for child in getattr(node, f):
                visit(child)

    visit(tree)
    return out


def _first_difference(got: ast.Module, want: ast.Module) -> int:
    """The line of `got` where its statements first differ from `want`'s."""
    a, b = _flat(got), _flat(want)
    for (line, x), (_, y) in zip(a, b):
        if x != y:
            return line
    return a[len(b)][0] if len(a) > len(b) else (a[-1][0] if a else 1)


def check(kind: str, instruction: str, source: str, output: str) -> tuple[str, int] | None:
    """(what the edit should have been, the line of `output` where it first differs from that), or
    None when it is that edit, leaves the code unchanged (reported as such), or when the rule cannot
    tell (a skill without one, code that does not parse)."""
    src, out = parsed(source), parsed(output)
    if src is None or out is None or kind not in WHAT or ast.dump(out) == ast.dump(src):
        return None
    names = names_in(instruction)
    what = WHAT[kind].format(old=names[0], new=names[1]) if names else WHAT[kind]
    if kind == "add_docstring":
        before, after = _functions(src), _functions(out)
        if not before or not after or has_docstring(before[0]):
            return None
        if not has_docstring(after[0]):
            return what, after[0].lineno
        del after[0].body[0]
        return None if ast.dump(out) == ast.dump(src) else (what, _first_difference(out, src))
    want = _expected(kind, names, src)
    if want is None or ast.dump(out) == ast.dump(want):
        return None
    return what, _first_difference(out, want)


def message(what: str, line: int) -> str:
    """The notice: the line of the document to review."""
    return f"the edit differs from {what} at line {line}: review it before accepting"
