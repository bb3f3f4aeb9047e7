"""What the diff pane shows of the review: each final hunk's decision and the current hunk. No Qt.

The controller decides (`LiveDiffView.set_hunk_state`); `ReviewMarks` only remembers what to
draw and which hunk A / R act on (the first undecided one, unless the user moved with J / K or a
click).
"""

from __future__ import annotations

from collections.abc import Iterable

from app.core.edit.states import HunkState

ACCEPTED, REJECTED = HunkState.ACCEPTED, HunkState.REJECTED  # the decisions the diff shows


class ReviewMarks:
    def __init__(self) -> None:
        self.states: dict[int, str] = {}  # hunk index -> ACCEPTED / REJECTED
        self.current: int | None = None  # the hunk the keys act on

    def set_state(self, index: int, state: str | None) -> None:
        """Show a hunk as accepted/rejected (or undecided again, e.g. after a conflict)."""
        if state not in (ACCEPTED, REJECTED, None):
            raise ValueError(f"state must be {ACCEPTED!r}, {REJECTED!r} or None, got {state!r}")
        if state is None:
            self.states.pop(index, None)
        else:
            self.states[index] = state

    def undecided(self, hunks: Iterable[int]) -> list[int]:
        return [i for i in sorted(hunks) if i not in self.states]

    def advance(self, hunks: Iterable[int]) -> bool:
        """Past a decided (or no) current hunk, the first undecided one is current; True if it moved."""
        if self.current is not None and self.current not in self.states:
            return False
        undecided = self.undecided(hunks)
        self.current = undecided[0] if undecided else None
        return self.current is not None

    def step(self, hunks: Iterable[int], step: int) -> int | None:
        """J (+1) / K (-1): the next or previous undecided hunk becomes current (None: none left)."""
        undecided = self.undecided(hunks)
        if not undecided:
            return None
        if self.current not in undecided:
            self.current = undecided[0]
        else:
            position = undecided.index(self.current) + step
            self.current = undecided[max(0, min(len(undecided) - 1, position))]
        return self.current
