"""As-written pairs cut as the engine cuts a long target: the engine's windows
(engine/decode/windows.py), each a pair with the edits inside it, and renames of a definition's
header alone (the window before a docstring longer than a window)."""

from __future__ import annotations

import ast
import random

from ..decode.reframe import Frame, frame_for
from ..decode.windows import OUTPUT_ROOM, WindowError, plan, source_budget
from ..skills.kind import function_of, has_docstring
from .written import Edit, apply, line_offsets, rename_function, rename_variable


def normalise_like(frame: Frame, text: str) -> str:
    """`text` (a window's expected output, in the window's terms) as the frame presents code."""
    lines = text.replace("\r\n", "\n").strip("\n").rstrip().split("\n")
    out = []
    for ln in lines:
        if not ln.strip():
            out.append("")
        elif ln.startswith(frame.indent):
            out.append(ln[len(frame.indent):])
        else:
            out.append(ln.lstrip(" \t"))
    return frame.encode_text("\n".join(out))


def windows_of(source: str, target: str, edits: list[Edit] | None, instruction: str, count, context: int,
               first_only: bool) -> list[tuple[str, str]]:
    """(source, expected output) pairs of one edit: the whole function when it fits the context,
    else the engine's windows (engine/decode/windows.py), each with the edits inside it."""
    n_instr = count(instruction)
    if n_instr + 2 * count(source) + 4 + OUTPUT_ROOM < context:  # the engine's rule (session._overflows)
        return [(source, target)]
    if edits is None:
        return []
    try:
        ranges = plan(source, 0, len(source), count, source_budget(context, n_instr))
    except WindowError:
        return []
    out = []
    for a, b in ranges[:1] if first_only else ranges:
        inside = [(s - a, e - a, t) for s, e, t in edits if a <= s < b and e <= b or s == e == b == len(source)]
        if any(s < b < e or s < a < e for s, e, _ in edits):
            continue
        frame = frame_for(source, a, b)
        out.append((frame.model_code, normalise_like(frame, apply(source[a:b], inside))))
    return out


def header_pair(kind: str, code: str, rng: random.Random, pool: list[str]) -> tuple[str, str, str] | None:
    """A rename of a definition's header alone (decorators and ``def`` line up to its docstring):
    the window the engine runs when the docstring that follows is longer than a window."""
    tree = ast.parse(code)
    fn = function_of(tree)
    if not has_docstring(fn):
        return None
    cut = line_offsets(code)[fn.body[0].lineno - 1]
    made = (rename_variable if kind == "rename_variable" else rename_function)(code, rng, pool)
    if made is None:
        return None
    instruction, source, edits, _ = made
    inside = [e for e in edits if e[1] <= cut]
    if not inside:
        return None
    return instruction, source[:cut].rstrip(), apply(source[:cut], inside).rstrip()
