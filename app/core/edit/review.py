"""The user's decisions on an edit's hunks: which can be applied to the live document, and where. No Qt.

Hunks are ranges of the snapshot the edit started from; the user may have typed since. A hunk
whose text is unchanged is applied where that text is now; one whose text the user changed is a
conflict and is never applied (their typing wins). The decisions live in the run
(`EditRun.resolved`, keyed by `hunk_key`, so they survive rebuilding the diff after a redirect)
and follow the editor's undo stack (`EditRun.accept_steps`); the view is told each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.core.diff.stream import Hunk, StreamingDiff
from app.core.edit.relocate import Relocator
from app.core.edit.states import HunkState
from app.core.edit.view import EditRun, EditView


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



def undecided(run: EditRun | None, diff: StreamingDiff | None) -> list[int]:
    """Indices of the final hunks the user has not decided on yet."""
    if run is None or diff is None:
        return []
    return [h.index for h in diff.final_hunks if not run.resolved.get(hunk_key(h))]


def restore_states(view: EditView, run: EditRun, diff: StreamingDiff | None) -> None:
    """Show the decisions already taken on a rebuilt (or newly settled) diff's hunks."""
    if diff is None:
        return
    for hunk in diff.final_hunks:
        state = run.resolved.get(hunk_key(hunk))
        if state:
            view.set_hunk_state(hunk.index, state)


def accept(view: EditView, run: EditRun, diff: StreamingDiff, indices: list[int]) -> int:
    """Apply these final hunks to the editor as one undo step, and say so; returns how many applied."""
    plan = plan_accept(run.snapshot, view.document_text(), run.target.start, diff.final_hunks, indices,
                       run.resolved)
    if plan.edits:
        step = view.replace_ranges(plan.edits)  # the editor's undo position after it, if known
        if isinstance(step, int):
            run.accept_steps[step] = [hunk_key(h) for h in plan.applied]
    for hunk in plan.applied:
        run.resolved[hunk_key(hunk)] = HunkState.ACCEPTED
        view.set_hunk_state(hunk.index, HunkState.ACCEPTED)
    for hunk in plan.conflicts:
        view.set_hunk_state(hunk.index, HunkState.CONFLICT)
    if plan.conflicts:
        view.show_status(conflict_message(plan.conflicts), "error")
    elif plan.applied:
        view.show_status(f"Applied {len(plan.applied)} change(s). Ctrl+Z undoes.", "ok")
    elif plan.unsettled:
        view.show_status("That change is still streaming; accept it once it settles.", "warn")
    return len(plan.applied)


def reject(view: EditView, run: EditRun, diff: StreamingDiff | None, indices: list[int]) -> None:
    finals = diff.final_hunks if diff is not None else []
    for index in indices:
        hunk = finals[index] if 0 <= index < len(finals) else None
        if hunk is not None and not run.resolved.get(hunk_key(hunk)):
            run.resolved[hunk_key(hunk)] = HunkState.REJECTED
            view.set_hunk_state(index, HunkState.REJECTED)


def follow_undo(view: EditView, run: EditRun, diff: StreamingDiff, position: int, forget_after: bool) -> bool:
    """The editor's undo stack now stands at `position` (steps available to undo); True if a decision moved.

    An accept whose step lies past it was undone: its hunks are undecided again; one at or before
    it is applied (again, after a redo). `forget_after`: a new edit cleared the redo stack, so
    accepts past `position` can never come back and are dropped.
    """
    changed = False
    for step, keys in list(run.accept_steps.items()):
        applied = step <= position
        if not applied and forget_after:
            del run.accept_steps[step]
        for key in keys:
            state = run.resolved.get(key)
            if applied and state is None:
                run.resolved[key] = HunkState.ACCEPTED
                changed = True
            elif not applied and state == HunkState.ACCEPTED:
                del run.resolved[key]
                changed = True
    if changed:
        for hunk in diff.final_hunks:
            view.set_hunk_state(hunk.index, run.resolved.get(hunk_key(hunk)) or HunkState.UNDECIDED)
    return changed
