"""The states of an edit and of each of its hunks. No Qt.

They are `StrEnum`s: their values are what the study log records and what the views show.
"""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """Where the current edit stands: idle → streaming → (stopped | reviewing) → idle."""

    IDLE = "idle"  # no edit, or every change of the last one decided
    STREAMING = "streaming"  # tokens arrive; Enter redirects, Esc stops
    STOPPED = "stopped"  # the user stopped it (or it failed part-way); Enter continues it
    REVIEWING = "reviewing"  # it finished; changes wait for Accept / Reject

    @property
    def can_review(self) -> bool:
        return self in (Mode.REVIEWING, Mode.STOPPED)


class HunkState(StrEnum):
    """The user's decision on one final hunk, as the controller records it."""

    UNDECIDED = "undecided"
    ACCEPTED = "accepted"  # applied to the editor (one undo step)
    REJECTED = "rejected"
    CONFLICT = "conflict"  # accept refused: the user changed that text since; stays undecided
