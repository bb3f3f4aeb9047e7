"""Find where a piece of the original text is now, after the user kept editing. No Qt.

A generation diffs against a snapshot of the document taken when the request started; the user
may type elsewhere meanwhile (and accepting a hunk changes the document too). To apply a hunk we
map its snapshot range into the current text through a line diff of snapshot → current. If any
line the hunk covers was changed since, we refuse: applying would overwrite the user's typing.
"""

from __future__ import annotations

import bisect
import difflib


def _line_starts(lines: list[str]) -> list[int]:
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line)
    starts.append(pos)  # sentinel: end of text
    return starts


class Relocator:
    """Maps character ranges of `snapshot` into `current`; build one per current text."""

    def __init__(self, snapshot: str, current: str) -> None:
        self.snapshot = snapshot
        self.current = current
        self._old_lines = snapshot.splitlines(keepends=True)
        self._new_lines = current.splitlines(keepends=True)
        self._old_starts = _line_starts(self._old_lines)
        self._new_starts = _line_starts(self._new_lines)
        # old line index -> new line index, only for lines unchanged since the snapshot
        self._same: dict[int, int] = {}
        matcher = difflib.SequenceMatcher(None, self._old_lines, self._new_lines, autojunk=False)
        for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
            if tag == "equal":
                for k in range(i2 - i1):
                    self._same[i1 + k] = j1 + k

    def _line_index(self, offset: int) -> int:
        return bisect.bisect_right(self._old_starts, offset) - 1

    def map_offset(self, offset: int) -> int | None:
        """Where snapshot offset `offset` is now, if its line is unchanged (or it is the end)."""
        if offset >= len(self.snapshot):
            last = len(self._old_lines) - 1
            if last < 0 or (last in self._same and self._same[last] == len(self._new_lines) - 1):
                return len(self.current)
            return None
        line = self._line_index(offset)
        if line not in self._same:
            return None
        return self._new_starts[self._same[line]] + (offset - self._old_starts[line])

    def map_range(self, start: int, end: int) -> tuple[int, int] | None:
        """The current range for snapshot [start, end), or None if the user changed that text."""
        if not 0 <= start <= end <= len(self.snapshot):
            return None
        new_start = self.map_offset(start)
        if new_start is None:
            return None
        if end == start:
            return new_start, new_start
        first, last = self._line_index(start), self._line_index(end - 1)
        for line in range(first, last + 1):
            # every covered line unchanged, and still consecutive (nothing typed in between)
            if line not in self._same or self._same[line] != self._same[first] + (line - first):
                return None
        new_end = new_start + (end - start)
        if self.current[new_start:new_end] != self.snapshot[start:end]:
            return None
        return new_start, new_end
