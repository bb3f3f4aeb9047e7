"""The rows the live-diff pane paints, built from a `StreamingDiff`'s updates. No Qt.

Rows of settled hunks are only ever appended (``final``); the unsettled tail (tentative hunks,
redirect markers not yet settled, the held-back partial line) is rebuilt from the latest update
each frame; the original the output has not reached is shown below it as ``pending`` rows.
Consecutive rows of one kind are stored as one run of line ranges, so a 2,000-line file costs a
handful of runs and a row lookup is a bisection.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from app.core.diff.stream import DiffUpdate, Redirect, Segment, StreamingDiff


@dataclass(frozen=True)
class DiffRow:
    """One painted line of the view."""

    kind: str  # "context", "removed", "added", "header", "redirect", "partial" or "pending"
    text: str  # the line, without its newline
    orig_line: int  # 0-based original line number, -1 if none
    out_line: int  # 0-based output line number, -1 if none
    hunk: int  # hunk index for header/removed/added rows, -1 otherwise
    final: bool  # settled: this row is never rewritten


@dataclass(frozen=True)
class Run:
    """Consecutive rows of one kind, kept as line ranges so a long run costs O(1)."""

    kind: str  # row kind, as in DiffRow
    count: int  # rows in the run
    orig_start: int  # original line of the first row, -1 if the rows have none
    out_start: int  # output line of the first row, -1 if the rows have none
    hunk: int  # hunk index, -1 if none
    final: bool  # settled
    text: str = ""  # the text of a single header/redirect/partial row


class Runs:
    """A list of runs indexed by row."""

    def __init__(self):
        self._runs: list[Run] = []
        self._starts: list[int] = []  # first row index of each run
        self._rows = 0  # total rows (count)

    def __len__(self) -> int:
        return self._rows

    def add(self, run: Run) -> None:
        if run.count > 0:
            self._runs.append(run)
            self._starts.append(self._rows)
            self._rows += run.count

    def row(self, index: int, diff: StreamingDiff) -> DiffRow:
        k = bisect.bisect_right(self._starts, index) - 1
        run, offset = self._runs[k], index - self._starts[k]
        orig = run.orig_start + offset if run.orig_start >= 0 else -1
        out = run.out_start + offset if run.out_start >= 0 and run.kind != "removed" else -1
        if run.kind in ("header", "redirect"):
            orig, out = run.orig_start, run.out_start
        if run.kind in ("context", "added"):
            text = diff.output_lines[out].rstrip("\n")
        elif run.kind == "removed":
            text = diff.original_lines[orig].rstrip("\n")
        else:
            text = run.text
        return DiffRow(run.kind, text, orig, out, run.hunk, run.final)


def _redirect_run(redirect: Redirect, final: bool) -> Run:
    return Run("redirect", 1, -1, redirect.out_line, -1, final, redirect.instruction)


class DiffRows:
    """Every row of one streaming edit: settled rows, the unsettled tail, the pending original.

    The view feeds it each `DiffUpdate` (`apply`), marks redirects, and calls `rebuild_tail`
    once per frame; rows are then read by index (`row`), top to bottom.
    """

    def __init__(self, diff: StreamingDiff | None = None):
        self.diff = diff
        self.final = Runs()  # settled rows: only ever appended
        self._tail = Runs()  # unsettled rows, rebuilt when read after an update
        self._tail_stale = False  # an update arrived since the tail was built
        self._pending_start = 0  # first original line not reached yet (line number)
        self.header_rows: dict[int, int] = {}  # final hunk index -> row index of its header
        self.out_starts: list[int] = [0]  # char offset of each output line start
        self.draft_starts: list[int] = []  # start char of each draft span, for bisect
        self.max_chars = 0  # longest row seen (chars), for the horizontal scroll range
        self._redirects_unplaced: list[Redirect] = []  # marked, not yet in the final rows
        self._latest = DiffUpdate()
        if diff is not None:
            self.max_chars = max((len(line) for line in diff.original_lines), default=0)

    # ---- building ---------------------------------------------------------------------------
    def apply(self, update: DiffUpdate) -> None:
        """Take one update of the diff: append what settled, remember the rest for the tail."""
        for line in self.diff.output_lines[len(self.out_starts) - 1:]:
            self.out_starts.append(self.out_starts[-1] + len(line))
            self.max_chars = max(self.max_chars, len(line))
        for segment in update.final_segments:
            self._add_segment(self.final, segment, True, self._redirects_unplaced)
        self.draft_starts += [span.out_start_char for span in update.new_draft_spans]
        self._latest = update
        # The settled rows just grew: a tail built before this update would show text the
        # settled rows now hold (a row twice, the pending original a line behind).
        self._tail_stale = True

    @property
    def pending_start(self) -> int:
        self.tail  # noqa: B018 - brings the tail (and with it this line) up to date
        return self._pending_start

    @property
    def tail(self) -> Runs:
        if self._tail_stale:
            self.rebuild_tail()
        return self._tail

    def mark_redirect(self, redirect: Redirect) -> None:
        self._redirects_unplaced.append(redirect)
        self._tail_stale = True

    def place_redirects(self) -> None:
        """The edit finished: settle every redirect marker not placed by a segment yet."""
        while self._redirects_unplaced:
            self.final.add(_redirect_run(self._redirects_unplaced.pop(0), True))
        self._tail_stale = True

    def rebuild_tail(self) -> None:
        """The unsettled rows: a handful of runs however many lines they span."""
        update = self._latest
        redirects = list(self._redirects_unplaced)
        runs = Runs()
        for segment in update.tentative_segments:
            self._add_segment(runs, segment, False, redirects)
        for redirect in redirects:
            runs.add(_redirect_run(redirect, False))
        if update.partial_line:
            runs.add(Run("partial", 1, -1, len(self.diff.output_lines), -1, False,
                         update.partial_line))
            self.max_chars = max(self.max_chars, len(update.partial_line))
        self._tail = runs
        self._tail_stale = False
        self._pending_start = update.pending_start

    def _add_segment(self, runs: Runs, segment: Segment, final: bool,
                     redirects: list[Redirect]) -> None:
        if segment.kind != "equal":
            if final:
                self.header_rows[segment.hunk] = len(runs)
            runs.add(Run("header", 1, segment.orig_start, segment.out_start, segment.hunk, final))
            runs.add(Run("removed", segment.orig_end - segment.orig_start, segment.orig_start, -1,
                         segment.hunk, final))
        kind = "context" if segment.kind == "equal" else "added"
        j = segment.out_start
        while j < segment.out_end:
            # A redirect marker goes between the output lines before and after it.
            while redirects and redirects[0].out_line <= j:
                runs.add(_redirect_run(redirects.pop(0), final))
            stop = segment.out_end
            if redirects and redirects[0].out_line < stop:
                stop = redirects[0].out_line
            orig_start = segment.orig_start + j - segment.out_start if kind == "context" else -1
            runs.add(Run(kind, stop - j, orig_start, j, segment.hunk, final))
            j = stop

    # ---- reading ----------------------------------------------------------------------------
    def __len__(self) -> int:
        orig_lines = len(self.diff.original_lines) if self.diff else 0
        return len(self.final) + len(self.tail) + orig_lines - self.pending_start

    @property
    def front(self) -> int:
        """Row index just past the stream's output (where the pending original starts)."""
        return len(self.final) + len(self.tail)

    def layout(self) -> tuple[int, int, int]:
        """(settled rows, unsettled rows, first pending original line)."""
        return len(self.final), len(self.tail), self.pending_start

    def row(self, index: int) -> DiffRow:
        if index < len(self.final):
            return self.final.row(index, self.diff)
        index -= len(self.final)
        if index < len(self.tail):
            return self.tail.row(index, self.diff)
        line = self.pending_start + index - len(self.tail)
        return DiffRow("pending", self.diff.original_lines[line].rstrip("\n"), line, -1, -1, False)

    def change_columns(self, hunk: int) -> tuple[int, int] | None:
        """(first, last) character column where the hunk's first removed and added lines differ."""
        row = self.header_rows.get(hunk)
        if row is None:
            return None
        removed = added = None
        for i in range(row + 1, min(len(self), row + 400)):
            r = self.row(i)
            if r.hunk != hunk:
                break
            if r.kind == "removed" and removed is None:
                removed = r.text
            elif r.kind == "added" and added is None:
                added = r.text
        old, new = removed or "", added or ""
        first = 0
        while first < min(len(old), len(new)) and old[first] == new[first]:
            first += 1
        suffix = 0
        while suffix < min(len(old), len(new)) - first and old[-1 - suffix] == new[-1 - suffix]:
            suffix += 1
        return first, max(first + 1, len(new) - suffix)
