"""Go to line: what the user types becomes a place in the file, clamped and said so when past the end."""

import pytest

from app.core.edit.goto import parse_goto

LINES = ["import math", "", "def area(radius):", "    return math.pi * radius ** 2"]


def place(text):
    return parse_goto(text, len(LINES), lambda n: len(LINES[n - 1]))


@pytest.mark.parametrize("text, line, column", [
    ("3", 3, 1), (" 3 ", 3, 1), ("3:5", 3, 5), ("3,5", 3, 5), (":4", 4, 1), ("4:33", 4, 33), ("2:1", 2, 1),
])
def test_a_line_or_line_and_column_that_exists_is_taken_as_typed(text, line, column):
    got = place(text)
    assert (got.line, got.column, got.note) == (line, column, "")


def test_a_line_past_the_end_goes_to_the_last_line_and_says_so():
    got = place("900")
    assert (got.line, got.column) == (4, 1)
    assert "900" in got.note and "went to line 4" in got.note


def test_line_zero_goes_to_the_first_line():
    got = place("0")
    assert got.line == 1 and "went to line 1" in got.note


def test_a_column_past_the_line_end_goes_to_its_end():
    got = place("1:99")
    assert (got.line, got.column) == (1, len(LINES[0]) + 1)
    assert "Column 99" in got.note and f"went to column {len(LINES[0]) + 1}" in got.note


@pytest.mark.parametrize("text", ["", "abc", "3:", "-2", "1.5", "3:x", "3 4"])
def test_text_that_is_no_place_is_refused_with_a_reason(text):
    with pytest.raises(ValueError, match="not a line number"):
        place(text)


def test_an_empty_document_has_one_line():
    got = parse_goto("5", 0, lambda n: 0)
    assert (got.line, got.column) == (1, 1)
