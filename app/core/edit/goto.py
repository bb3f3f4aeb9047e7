"""Go to line: what the user typed ("120", "120:8", ":120", "120,8") read as a place in the file. No Qt.

Lines and columns count from 1, columns in characters. A place past the end is clamped to the
nearest one that exists, and the result says so, as editors do rather than refuse the jump.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_PLACE = re.compile(r"^:?\s*(\d+)\s*(?:[:,]\s*(\d+)\s*)?$")


@dataclass(frozen=True)
class GotoPlace:
    line: int  # 1-based line the cursor goes to (clamped to the file)
    column: int  # 1-based character column on that line (clamped to the line's end)
    note: str  # "" when the place exists as typed; else what was clamped, for the status line


def parse_goto(text: str, line_count: int, line_length: Callable[[int], int]) -> GotoPlace:
    """Read ``text`` as "line" or "line:column"; ``line_length(n)`` is line n's length in characters.

    Raises ValueError with a message for the user when ``text`` is not a place at all.
    """
    match = _PLACE.match(text.strip())
    if match is None:
        raise ValueError(f"“{text.strip()}” is not a line number: type a line, or line:column")
    line = int(match.group(1))
    column = int(match.group(2)) if match.group(2) else 1
    notes = []
    last_line = max(1, line_count)
    if line < 1 or line > last_line:
        clamped = min(max(line, 1), last_line)
        notes.append(f"line {line} is outside the file (1–{last_line}): went to line {clamped}")
        line = clamped
    end_column = line_length(line) + 1  # just after the last character
    if column < 1 or column > end_column:
        clamped = min(max(column, 1), end_column)
        if match.group(2) and not notes:  # past the file's end, the line says enough
            notes.append(f"column {column} is outside line {line} (1–{end_column}): went to column {clamped}")
        column = clamped
    note = "; ".join(notes)
    return GotoPlace(line, column, note[:1].upper() + note[1:])
