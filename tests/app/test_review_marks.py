"""The diff pane's review marks: which hunk A / R act on, and what a header row says."""

from __future__ import annotations

import pytest

from app.core.diff.rows import DiffRow, DiffRows
from app.core.diff.stream import DiffUpdate, StreamingDiff
from app.core.edit.states import HunkState
from app.qt.widgets.diffpaint import header_label
from app.qt.widgets.review_marks import ReviewMarks

HUNKS = {0: 1, 2: 9, 1: 5}  # hunk index -> header row, as DiffRows.header_rows holds them


def test_the_first_undecided_hunk_is_current_and_a_decision_moves_it_on():
    marks = ReviewMarks()
    assert marks.advance(HUNKS) and marks.current == 0
    marks.set_state(0, HunkState.ACCEPTED)
    assert marks.advance(HUNKS) and marks.current == 1
    assert not marks.advance(HUNKS)  # an undecided current hunk stays
    marks.set_state(1, HunkState.REJECTED)
    marks.set_state(2, HunkState.REJECTED)
    assert not marks.advance(HUNKS) and marks.current is None


def test_j_and_k_step_over_decided_hunks_and_stop_at_the_ends():
    marks = ReviewMarks()
    marks.set_state(1, HunkState.ACCEPTED)
    assert marks.step(HUNKS, 1) == 0  # no current yet: the first undecided
    assert marks.step(HUNKS, 1) == 2  # hunk 1 is decided: skipped
    assert marks.step(HUNKS, 1) == 2
    assert marks.step(HUNKS, -1) == 0 and marks.step(HUNKS, -1) == 0
    marks.set_state(0, HunkState.REJECTED)
    marks.set_state(2, HunkState.REJECTED)
    assert marks.step(HUNKS, 1) is None


def test_undecided_again_after_a_conflict_and_only_decisions_are_shown():
    marks = ReviewMarks()
    marks.set_state(0, HunkState.ACCEPTED)
    marks.set_state(0, None)
    assert marks.undecided(HUNKS) == [0, 1, 2]
    with pytest.raises(ValueError):
        marks.set_state(0, HunkState.CONFLICT)  # the status line says why; the view shows no state


def test_a_header_names_the_file_line_the_size_the_state_and_a_parse_problem():
    diff = StreamingDiff("a = 1\nb = 2\nc = 3\n")
    diff.feed("a = 1\nb = 20\nc = 3\n")
    diff.finish()
    [hunk] = diff.final_hunks
    row = DiffRow(kind="header", text="", orig_line=1, out_line=1, hunk=0, final=True)
    assert header_label(row, hunk, 40, -1, None) == "  hunk 1 · line 41 · −1 +1"
    assert header_label(row, hunk, 40, -1, HunkState.ACCEPTED).endswith("· ✓ accepted")
    assert header_label(row, hunk, 40, -1, HunkState.REJECTED).endswith("· ✗ rejected")
    broken = header_label(row, hunk, 1, hunk.out_start, None)
    assert broken.startswith("  ⚠") and broken.endswith("does not parse")


def test_the_changed_columns_of_a_long_line_are_found_for_sideways_scrolling():
    original = "x = compute(alpha, beta, gamma, delta)\n"
    diff = StreamingDiff(original)
    rows = DiffRows(diff)
    rows.apply(DiffUpdate(pending_start=0))
    rows.apply(diff.feed(original.replace("gamma", "GAMMA")))
    rows.apply(diff.finish())
    first, last = rows.change_columns(0)
    assert original[first:last] == "gamma"
    assert rows.change_columns(7) is None
