"""The everyday edits offered as one-click instructions, from the active model's skills. No Qt.

A model that declares its skills (its ``tessera.json``) gets one button per skill, worded the way
it was trained; a model without (an instruct or chat model, an endpoint) gets free-form actions.
A button fills the instruction bar for the user to see and finish: "Rename" proposes the
identifier under the cursor ("rename variable result to |", the cursor after "to ").
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass

IDENT = "{ident}"  # in a template: the identifier under the cursor


@dataclass(frozen=True)
class QuickAction:
    label: str  # button text
    instruction: str  # what it puts into the instruction bar; may hold IDENT
    shortcut: str = ""  # Qt key sequence text, "" for none
    function_instruction: str = ""  # the template when the identifier names a function ("" = same)


@dataclass(frozen=True)
class Filled:
    text: str  # the instruction as it goes into the bar
    select_start: int  # what to select in it (chars); equal ends put the cursor there
    select_end: int  # end of that selection (chars, exclusive)


# Skill name (as models declare them) → the button; unknown skills get a button from their example.
_SKILL_ACTIONS = {
    "rename_variable": QuickAction("Rename", f"rename variable {IDENT} to ",
                                   function_instruction=f"rename function {IDENT} to "),
    "add_docstring": QuickAction("Docstring", "add a docstring"),
    "remove_prints": QuickAction("No prints", "remove print statements"),
    "fstring": QuickAction("f-strings", "convert to f-strings"),
}
_SKILL_ALIASES = {"rename_function": "rename_variable"}  # one Rename button serves both

FREE_FORM: tuple[QuickAction, ...] = (
    QuickAction("Rename", f"Rename `{IDENT}` to `new_name` everywhere in this code"),
    QuickAction("Docstring", "Add a concise docstring"),
    QuickAction("Type hints", "Add type hints to the function signatures"),
    QuickAction("f-strings", "Convert string formatting to f-strings"),
    QuickAction("No prints", "Remove debug print statements"),
    QuickAction("Unit test", "Write a pytest unit test for this code"),
    QuickAction("Quick fix", "Fix the bug in this code with a minimal change"),
)
QUICK_ACTIONS = FREE_FORM  # before the engine has said which model it runs


def _numbered(actions: list[QuickAction]) -> tuple[QuickAction, ...]:
    return tuple(QuickAction(a.label, a.instruction, f"Alt+{i}", a.function_instruction)
                 for i, a in enumerate(actions, 1) if i <= 9)


def actions_for(skills: Sequence[str], examples: Sequence[str] = ()) -> tuple[QuickAction, ...]:
    """The buttons for a model with these skills (names, with one example instruction each)."""
    if not skills:
        return _numbered(list(FREE_FORM))
    chosen: list[QuickAction] = []
    seen: set[str] = set()
    for i, name in enumerate(skills):
        key = _SKILL_ALIASES.get(name, name)
        if key in seen:
            continue
        seen.add(key)
        action = _SKILL_ACTIONS.get(key)
        if action is None:
            example = examples[i] if i < len(examples) else ""
            if not example:
                continue
            action = QuickAction(name.replace("_", " ").capitalize(), example)
        chosen.append(action)
    return _numbered(chosen)


_WORD = re.compile(r"[^\W\d]\w*")


def identifier_at(text: str, offset: int) -> str | None:
    """The identifier touching `offset` (a cursor just after a word counts), or None.

    Keywords are not identifiers; a name after a dot (an attribute) is, as a user would rename it.
    """
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end < 0 else line_end
    for match in _WORD.finditer(text, line_start, line_end):
        if match.start() <= offset <= match.end():
            word = match.group()
            return None if keyword.iskeyword(word) or keyword.issoftkeyword(word) else word
        if match.start() > offset:
            break
    return None


def names_function(text: str, name: str) -> bool:
    """`name` is defined as a function or method in `text` (so renaming it renames a function)."""
    return re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(name)}\s*\(", text, re.MULTILINE) is not None


def fill(action: QuickAction, text: str, sel_start: int, sel_end: int) -> Filled:
    """The action's instruction for the code at the cursor: IDENT becomes the identifier there
    (or the selected one); without one, the placeholder is selected for the user to type over."""
    selected = text[sel_start:sel_end]
    ident = selected if _WORD.fullmatch(selected or "") else identifier_at(text, sel_end)
    template = action.instruction
    if ident and action.function_instruction and names_function(text, ident):
        template = action.function_instruction
    if IDENT not in template:
        return Filled(template, len(template), len(template))
    if ident:
        filled = template.replace(IDENT, ident)
        tail = re.search(r"`(new_name)`", filled)
        if tail:  # a free-form template: select the new name to type over
            return Filled(filled, tail.start(1), tail.end(1))
        return Filled(filled, len(filled), len(filled))  # the cursor after "to "
    placeholder = "old_name"
    filled = template.replace(IDENT, placeholder)
    at = filled.index(placeholder)
    return Filled(filled, at, at + len(placeholder))
