"""The everyday edits offered as one-click instructions; each fills the instruction bar. No Qt."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuickAction:
    label: str  # button text
    instruction: str  # what it puts into the instruction bar, for the user to see and edit
    shortcut: str = ""  # Qt key sequence text, "" for none


QUICK_ACTIONS: tuple[QuickAction, ...] = (
    QuickAction("Rename", "Rename `old_name` to `new_name` everywhere in this code", "Alt+1"),
    QuickAction("Docstring", "Add a concise docstring", "Alt+2"),
    QuickAction("Type hints", "Add type hints to the function signatures", "Alt+3"),
    QuickAction("f-strings", "Convert string formatting to f-strings", "Alt+4"),
    QuickAction("No prints", "Remove debug print statements", "Alt+5"),
    QuickAction("Unit test", "Write a pytest unit test for this code", "Alt+6"),
    QuickAction("Quick fix", "Fix the bug in this code with a minimal change", "Alt+7"),
)
