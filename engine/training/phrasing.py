"""How users phrase each skill, the skill patterns written into tessera.json, and the docstring
summary rule (a one-line summary from the function's name and parameters)."""

from __future__ import annotations

import ast
import random
import re

NAME = r"[A-Za-z_][A-Za-z0-9_]*"

# Full, case-insensitive matches of the (whitespace-normalised) instruction; the engine routes
# anything else to the out-of-scope notice.
SKILLS = [
    {"name": "rename_variable",
     "pattern": rf"rename (?:the )?(?:(?:variable|parameter|local|argument) )?`?{NAME}`? to `?{NAME}`?",
     "example": "rename variable x to total"},
    {"name": "rename_function",
     "pattern": rf"rename (?:the )?(?:function|method) `?{NAME}`? to `?{NAME}`?",
     "example": "rename function parse to parse_header"},
    {"name": "add_docstring",
     "pattern": r"(?:add|write|insert) (?:a )?(?:one-line |short )?docstring(?: to this function)?\.?",
     "example": "add a docstring"},
    {"name": "remove_prints",
     "pattern": r"(?:remove|delete|drop|strip) (?:all )?(?:the )?(?:debug )?print(?:s| statements| calls)?\.?",
     "example": "remove print statements"},
    {"name": "fstring",
     "pattern": r"(?:convert|change|rewrite)(?: this| the code| string formatting)? (?:to|into|with) "
                r"(?:use )?f-?strings?\.?|use f-?strings?\.?",
     "example": "convert to f-strings"},
]

_RENAME_VARIABLE = ["rename variable {old} to {new}", "rename {old} to {new}",
                    "rename the variable {old} to {new}", "Rename variable {old} to {new}",
                    "Rename {old} to {new}", "rename parameter {old} to {new}"]
_RENAME_FUNCTION = ["rename function {old} to {new}", "rename the function {old} to {new}",
                    "Rename function {old} to {new}", "rename method {old} to {new}", "rename {old} to {new}"]
_DOCSTRING = ["add a docstring", "add docstring", "Add a docstring", "write a docstring",
              "add a one-line docstring", "insert a docstring"]
_PRINTS = ["remove print statements", "remove debug prints", "Remove print statements",
           "remove all print statements", "remove prints", "delete the print calls", "Remove debug prints",
           "strip debug prints"]
_FSTRING = ["convert to f-strings", "Convert to f-strings", "use f-strings", "convert string formatting to f-strings",
            "rewrite with f-strings", "change to f-strings", "Use f-strings"]
OUT_OF_SCOPE = [
    "add type hints", "add type annotations", "sort the imports", "make it faster", "optimize this",
    "add error handling", "add logging", "add a print statement for debugging", "replace prints with logging",
    "convert to a list comprehension", "write unit tests", "add a unit test", "make this async",
    "explain this code", "use pathlib", "add input validation", "rename the class", "add comments",
    "translate the comments to French", "extract a helper function", "inline the variable",
    "add a guard clause", "use a dataclass", "convert to a generator", "remove the docstring",
    "add a return type", "make it thread-safe", "cache the result", "add a timeout", "simplify this",
    "fix the bug", "refactor", "reformat", "convert to camelCase", "use enumerate", "add a decorator",
    "remove unused variables", "handle None", "add retries", "convert f-strings to format calls",
    "make the function recursive", "split into two functions", "add a main guard", "use pattern matching",
    "add a default argument", "remove comments", "use snake_case", "wrap in try/except",
    "add print statements", "swap the arguments",
]

VERBS = {
    "get", "set", "parse", "read", "write", "make", "build", "create", "load", "save", "check", "find",
    "add", "remove", "update", "compute", "convert", "format", "handle", "open", "close", "run", "start",
    "stop", "send", "receive", "reset", "clear", "print", "render", "validate", "register", "process",
    "return", "apply", "call", "copy", "delete", "emit", "encode", "decode", "escape", "extract", "fetch",
    "filter", "flush", "generate", "init", "insert", "join", "list", "lookup", "match", "merge", "normalize",
    "pop", "push", "put", "quote", "raise", "resolve", "search", "select", "split", "strip", "test", "visit",
    "wrap", "append", "compile", "connect", "dump", "ensure", "expand", "fix", "iter", "log", "mark", "pack",
    "unpack", "parse", "prepare", "show", "skip", "sort", "store", "translate", "write", "is", "has", "can",
    "should", "do", "try", "use", "wait", "walk", "collect", "count", "define", "determine", "execute",
}
_SPECIAL_VERBS = {"init": "Initialize", "iter": "Iterate over", "is": "Tell whether", "has": "Tell whether it has",
                  "can": "Tell whether it can", "should": "Tell whether it should", "do": "Do"}


def name_words(name: str) -> list[str]:
    """Words of an identifier: snake_case and camelCase split, lower case."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [w.lower() for w in spaced.split("_") if w]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def docstring_summary(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """'Parse header given line and strict.' from ``def parse_header(self, line, strict)``."""
    words = name_words(fn.name) or ["value"]
    first, rest = words[0], words[1:]
    if first in _SPECIAL_VERBS:
        head = [_SPECIAL_VERBS[first], *rest]
    elif first in VERBS:
        head = [first.capitalize(), *rest]
    else:
        head = ["Return", *words]
    a = fn.args
    params = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
              if p is not None and p.arg not in ("self", "cls")]
    text = " ".join(head)
    if params:
        text += " given " + _join(params)
    return text + "."


def instruction_for(kind: str, rng: random.Random, old: str = "", new: str = "") -> str:
    table = {"rename_variable": _RENAME_VARIABLE, "rename_function": _RENAME_FUNCTION,
             "add_docstring": _DOCSTRING, "remove_prints": _PRINTS, "fstring": _FSTRING,
             "out_of_scope": OUT_OF_SCOPE}
    return rng.choice(table[kind]).format(old=old, new=new)


def skill_of(instruction: str) -> str | None:
    text = " ".join(instruction.split())
    for s in SKILLS:
        if re.fullmatch(s["pattern"], text, re.IGNORECASE):
            return s["name"]
    return None
