"""Which accepted hunks can be applied to the live document, and where. No Qt.

Hunks are ranges of the snapshot the edit started from; the user may have typed since. A hunk
whose text is unchanged is applied where that text is now; one whose text the user changed is a
conflict and is never applied (their typing wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.core.diff.stream import Hunk
from app.core.edit.relocate import Relocator


def hunk_key(hunk: Hunk) -> tuple[int, int, str]:
    """Identity of a hunk that survives rebuilding the diff after a redirect."""
    return (hunk.orig_start_char, hunk.orig_end_char, hunk.new_text)


@dataclass
class AcceptPlan:
    edits: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, text) in current chars
    applied: list[Hunk] = field(default_factory=list)  # hunks the edits apply
    conflicts: list[Hunk] = field(default_factory=list)  # hunks whose text the user changed
    unsettled: list[int] = field(default_factory=list)  # indices not final yet (still streaming)


def plan_accept(snapshot: str, current: str, base: int, final_hunks: list[Hunk],
                indices: Iterable[int], resolved: Mapping[tuple[int, int, str], str]) -> AcceptPlan:
    """Edits for accepting `indices` of `final_hunks` (target starts at `base` in `snapshot`)."""
    plan = AcceptPlan()
    relocator = Relocator(snapshot, current)
    for index in sorted(set(indices)):
        if not 0 <= index < len(final_hunks):
            plan.unsettled.append(index)
            continue
        hunk = final_hunks[index]
        if resolved.get(hunk_key(hunk)):
            continue
        span = relocator.map_range(base + hunk.orig_start_char, base + hunk.orig_end_char)
        if span is None:
            plan.conflicts.append(hunk)
        else:
            plan.edits.append((span[0], span[1], hunk.new_text))
            plan.applied.append(hunk)
    return plan


def conflict_message(conflicts: list[Hunk]) -> str:
    lines = ", ".join(f"{h.orig_start + 1}–{max(h.orig_end, h.orig_start + 1)}" for h in conflicts)
    return (f"Not applied: you changed that text (original lines {lines}) after the edit started. "
            "Your version is kept.")

