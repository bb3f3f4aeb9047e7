"""Which output lines rewrite the next original lines, for a stream stopped early. No Qt.

A stopped stream's output lines after its last matched line were diffed against nothing; the
rule here (see STOP_REWRITE_RATIO in app.core.diff.stream) tells which of them replace original
lines rather than being inserted before them.
"""

from __future__ import annotations

import difflib
import keyword
import re

_TOKEN = re.compile(r"\w+|[^\w\s]+")


def _ratio(a: list[str] | str, b: list[str] | str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def is_rewrite(old: str, new: str, min_ratio: float, min_char_ratio: float) -> bool:
    """True if ``new`` reads as a rewrite of the original line ``old``.

    Both blank, or: the same indentation and, on the stripped lines, a difflib ratio of at least
    ``min_ratio`` on their tokens (a rename of a short name changes many characters of a line but
    one token of it), the same tokens but one name, or a ratio of at least ``min_char_ratio`` on
    their characters (an edit inside a token). A comment or docstring shares words with the code it describes, not its tokens.
    """
    old_text, new_text = old.strip(), new.strip()
    if not old_text or not new_text:
        return not old_text and not new_text
    if old[:len(old) - len(old.lstrip())] != new[:len(new) - len(new.lstrip())]:
        return False
    old_tokens, new_tokens = _TOKEN.findall(old_text), _TOKEN.findall(new_text)
    if _ratio(old_tokens, new_tokens) >= min_ratio or _one_name_renamed(old_tokens, new_tokens):
        return True
    return _ratio(old_text, new_text) >= min_char_ratio


def _one_name_renamed(old: list[str], new: list[str]) -> bool:
    """The same tokens but one name (``return g`` → ``return common``): too short a line for a ratio."""
    if len(old) != len(new) or len(old) < 2:
        return False
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    return (len(changed) == 1 and all(t.isidentifier() and not keyword.iskeyword(t) for t in changed[0]))


def rewritten_through(orig: list[str], start: int, tail: list[str], min_ratio: float,
                      min_char_ratio: float) -> int:
    """The original line after the last one ``tail`` rewrites, walking from ``orig[start]``.

    The tail lines are taken in order; each that is a rewrite of the next original line not yet
    taken takes it, any other is a new line. Returns ``start`` when none is a rewrite.
    """
    taken = start
    for line in tail:
        if taken < len(orig) and is_rewrite(orig[taken], line, min_ratio, min_char_ratio):
            taken += 1
    return taken
