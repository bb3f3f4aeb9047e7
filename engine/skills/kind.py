"""What every edit kind declares, and the training pair it builds."""

from __future__ import annotations

import ast
import random
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

NAME = r"[A-Za-z_][A-Za-z0-9_]*"  # an identifier, in the instruction patterns


@dataclass
class EditPair:
    kind: str  # one of engine.skills.KINDS
    instruction: str  # what the user typed
    source: str  # code before the edit
    target: str  # code after the edit (== source for out_of_scope)


PairBuilder = Callable[[str, random.Random, list], "EditPair | None"]


@dataclass(frozen=True)
class Kind:
    """One edit kind: how users ask for it, how tessera.json routes it, how its pairs are built."""

    name: str  # e.g. "rename_variable"; the skill name in tessera.json
    title: str  # the row title in the model card's evaluation table
    phrasings: tuple[str, ...]  # instructions as users type them; {old}/{new} filled for renames
    build: PairBuilder  # (unparsed function, rng, name pool) → EditPair or None, built with ast
    touches: Callable[[str, str], bool]  # (instruction, code) → whether the edit can change the code
    pattern: str = ""  # full, case-insensitive match of the instruction; "" for out of scope
    example: str = ""  # an instruction the pattern takes, shown to users
    # (instruction, code) → why the edit has nothing to change in the code ("the code has no print
    # statement"), or None when it may change something; the engine then answers without the model
    nothing: Callable[[str, str], "str | None"] = lambda instruction, code: None

    def skill_entry(self) -> dict:
        """This kind as an entry of tessera.json's "skills"."""
        return {"name": self.name, "pattern": self.pattern, "example": self.example}


def function_of(tree: ast.Module) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The function definition an unparsed target holds."""
    node = tree.body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise ValueError("expected a function definition")
    return node


def has_docstring(fn: ast.AST) -> bool:
    return ast.get_docstring(fn, clean=False) is not None


def ast_offsets(code: str):
    """A function from an ast position (line, UTF-8 byte column) to its offset in `code`."""
    lines = code.splitlines(keepends=True) or [""]
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def offset(line: int, col: int) -> int:
        return starts[line - 1] + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", "replace"))
    return offset


def parsed(code: str) -> ast.Module | None:
    """`code` (a target or one of its windows, at any indentation) parsed, or None if it does not parse."""
    try:
        return ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError):
        return None
