"""Counterbalancing: balanced Latin squares over conditions and task order, by participant number.

Williams (1949): for n even, the rows ``r, r+1, r-1, r+2, r-2, …`` (mod n) for r = 0..n-1 form a
Latin square in which every condition is immediately followed by every other exactly once. For n
odd no single square does this; the standard remedy is to add the mirror image of each row, giving
2n rows in which every ordered pair of neighbours occurs exactly twice.

A participant's plan crosses the two: condition order from the condition square's row
``p mod rows_c``, task order from the task square's row ``(p div rows_c) mod rows_t``, so the first
``rows_c × rows_t`` participants see every combination once. With fewer tasks than conditions, or
more, task slot k runs under the condition ``order[k mod n_conditions]``.
"""

from __future__ import annotations

from dataclasses import dataclass


def williams(n: int) -> list[list[int]]:
    """The rows of a balanced Latin square over 0..n-1 (n rows for even n, 2n for odd)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"need at least one item, got {n!r}")
    first, lo, hi = [0], 1, n - 1
    while len(first) < n:  # 0, 1, n-1, 2, n-2, ...
        first.append(lo)
        lo += 1
        if len(first) < n:
            first.append(hi)
            hi -= 1
    rows = [[(x + r) % n for x in first] for r in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return rows


@dataclass(frozen=True)
class Slot:
    position: int  # 1-based place in the participant's session
    task: str  # task id
    condition: str  # condition id


@dataclass(frozen=True)
class Plan:
    participant: int  # participant number (0-based in the squares; shown as given)
    condition_order: tuple[str, ...]  # conditions in the order first met
    task_order: tuple[str, ...]  # tasks in the order done
    slots: tuple[Slot, ...]  # (task, condition) per position

    def to_json(self) -> dict:
        return {"participant": self.participant, "condition_order": list(self.condition_order),
                "task_order": list(self.task_order),
                "slots": [{"position": s.position, "task": s.task, "condition": s.condition} for s in self.slots]}


def plan_for(participant: int, conditions: list[str], tasks: list[str]) -> Plan:
    if not isinstance(participant, int) or participant < 0:
        raise ValueError(f"participant numbers are integers >= 0, got {participant!r}")
    c_rows, t_rows = williams(len(conditions)), williams(len(tasks))
    c_row = c_rows[participant % len(c_rows)]
    t_row = t_rows[(participant // len(c_rows)) % len(t_rows)]
    c_order = tuple(conditions[i] for i in c_row)
    t_order = tuple(tasks[i] for i in t_row)
    slots = tuple(Slot(k + 1, task, c_order[k % len(c_order)]) for k, task in enumerate(t_order))
    return Plan(participant, c_order, t_order, slots)


def schedule(study, participants: int, first: int = 0) -> list[Plan]:
    """Plans for participants ``first .. first+participants-1`` of a `Study`."""
    if participants < 1:
        raise ValueError("--participants must be at least 1")
    cids = [c.id for c in study.conditions]
    tids = [t.id for t in study.tasks]
    return [plan_for(p, cids, tids) for p in range(first, first + participants)]


def participant_number(participant_id: str) -> int:
    """The square row of a participant id: its trailing digits ("P07" → 7); ValueError otherwise."""
    digits = ""
    for ch in reversed(participant_id.strip()):
        if not ch.isdigit():
            break
        digits = ch + digits
    if not digits:
        raise ValueError(f"a participant id must end in a number (e.g. P7), got {participant_id!r}")
    return int(digits)
