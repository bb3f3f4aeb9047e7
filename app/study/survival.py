"""Does accepted code survive? Checked at 30 s, 2 min and at the end of the task.

An accepted hunk survives while the lines it brought in (stripped, blank lines ignored) are still
in the document, as a multiset: editing one of them counts that line as gone. A pure deletion
survives while the lines it removed stay out. The figure logged is the fraction that survives
(0–1); "survived" is that fraction being 1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

CHECKPOINTS_S = (30.0, 120.0)  # seconds after the accept


def _lines(text: str) -> Counter:
    return Counter(line.strip() for line in text.splitlines() if line.strip())


def survival_fraction(added: str, removed: str, document: str) -> float:
    """Share of an accepted change still present in `document` (1.0 = intact)."""
    doc = _lines(document)
    want = _lines(added)
    if want:
        kept = sum(min(n, doc[line]) for line, n in want.items())
        return kept / sum(want.values())
    gone = _lines(removed)
    if not gone:
        return 1.0
    # A deletion: the removed lines that did not come back (beyond what the rest of the file has).
    back = sum(min(n, doc[line]) for line, n in gone.items())
    return 1.0 - back / sum(gone.values())


@dataclass
class Accepted:
    hunk: int  # the hunk's index in its request's diff
    request: str  # engine request id
    added: str  # text the hunk brought in
    removed: str  # text it replaced
    t_accept: float  # log time of the accept, s
    due: list = field(default_factory=lambda: list(CHECKPOINTS_S))  # checkpoints not yet taken, s


class SurvivalTracker:
    """Collects accepted hunks of one task; `due` and `at_end` say what to log."""

    def __init__(self) -> None:
        self.accepted: list[Accepted] = []

    def add(self, item: Accepted) -> None:
        self.accepted.append(item)

    def due(self, now: float, document: str) -> list[dict]:
        """Survival events whose checkpoint has passed (each logged once)."""
        out = []
        for item in self.accepted:
            while item.due and now - item.t_accept >= item.due[0]:
                after = item.due.pop(0)
                out.append(self._event(item, f"{after:g}s", document))
        return out

    def at_end(self, document: str) -> list[dict]:
        """At task end: the end checkpoint, and checkpoints the task ended before (not reached)."""
        out = []
        for item in self.accepted:
            for after in item.due:
                out.append({"request": item.request, "hunk": item.hunk, "checkpoint": f"{after:g}s",
                            "reached": False})
            item.due = []
            out.append(self._event(item, "task_end", document))
        return out

    @staticmethod
    def _event(item: Accepted, checkpoint: str, document: str) -> dict:
        frac = survival_fraction(item.added, item.removed, document)
        return {"request": item.request, "hunk": item.hunk, "checkpoint": checkpoint, "reached": True,
                "fraction": round(frac, 4), "survived": frac >= 1.0}
