"""Instruction history as the instruction bar's Up/Down use it."""

from app.core.edit.history import InstructionHistory


def test_up_down_walks_history_and_returns_to_the_draft():
    h = InstructionHistory()
    for text in ("add docstring", "rename x", "quick fix"):
        h.add(text)
    assert h.previous("half typed") == "quick fix"
    assert h.previous("quick fix") == "rename x"
    assert h.previous("rename x") == "add docstring"
    assert h.previous("add docstring") == "add docstring"  # stays at the oldest
    assert h.next("add docstring") == "rename x"
    assert h.next("rename x") == "quick fix"
    assert h.next("quick fix") == "half typed"  # the unsent draft is not lost
    assert h.next("half typed") == "half typed"


def test_repeats_and_blanks_are_not_stored():
    h = InstructionHistory()
    h.add("fix it")
    h.add("fix it  ")
    h.add("   ")
    assert h.entries == ["fix it"]


def test_history_is_bounded():
    h = InstructionHistory(max_entries=3)
    for i in range(10):
        h.add(f"edit {i}")
    assert h.entries == ["edit 7", "edit 8", "edit 9"]


def test_empty_history_keeps_the_current_text():
    h = InstructionHistory()
    assert h.previous("typing") == "typing"
    assert h.next("typing") == "typing"
