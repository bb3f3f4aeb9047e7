"""The part of a fenced block an instruction names: "add a docstring to quote" edits ``quote``.

Whole-file clients (Aider's ``whole`` format) send the entire file and name the function to change
in words. An edit model changes one definition at a time: a trailing locator ("to quote", "in
the function `parse`", "of Parser.feed()") naming a definition of the code is taken off the
instruction, the edit runs on that definition's lines (decorators included), and the answer is the
whole code with them replaced. Python code is read with :mod:`ast`; other code keeps its whole
block as the target and only loses the locator when it defines the name.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

PYTHON = ("", "python", "py", "python3", "py3")
_NAME = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_LOCATOR = re.compile(
    rf"\s+(?P<prep>to|in|of|for|on|inside|within)\s+(?:the\s+)?(?:(?:function|method|class|def)\s+)?"
    rf"`?(?P<name>{_NAME})`?(?:\(\))?(?:\s+(?:function|method|class))?\s*[.!]?\s*$", re.I)
_DEFINES = r"^[ \t]*(?:async[ \t]+)?(?:def|class|function|fn|func)[ \t]+{name}\b"


@dataclass
class Target:
    instruction: str  # the instruction for the model, without the locator
    span: tuple[int, int] | None  # character offsets of the named definition in the code; None = all of it


def locate(code: str, language: str, instruction: str) -> Target:
    """Where in `code` the `instruction` applies, and the instruction without its locator."""
    m = _LOCATOR.search(instruction)
    rest = instruction[:m.start()].strip() if m else ""
    if not m or not rest:
        return Target(instruction, None)
    if m.group("prep").lower() == "to" and re.match(r"(?i)\s*rename\b", rest):
        return Target(instruction, None)  # "rename x to quote": the new name, not a place
    name = m.group("name").rsplit(".", 1)[-1]
    if not re.search(_DEFINES.format(name=re.escape(name)), code.replace("\r", "\n"), re.M):
        return Target(instruction, None)
    span = _python_span(code, m.group("name")) if language.lower() in PYTHON else None
    return Target(rest, span)


def _python_span(code: str, dotted: str) -> tuple[int, int] | None:
    """Offsets of the first definition named `dotted` (``Class.method`` or a bare name), whole lines."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    parts = dotted.split(".")
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in ast.walk(tree):
        if isinstance(node, kinds) and node.name == parts[0]:
            for part in parts[1:]:
                node = next((n for n in node.body if isinstance(n, kinds) and n.name == part), None)
                if node is None:
                    break
            if node is not None:
                lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", code)  # as ast counts lines
                first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
                start = sum(len(line) for line in lines[:first])
                end = sum(len(line) for line in lines[:node.end_lineno])
                return start, end
    return None
