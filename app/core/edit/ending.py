"""What a finished edit means for the user: the mode it leaves and what the status line says. No Qt.

The engine's `done` says why a request ended (``eos``, ``length``, ``stop``, ``error``) with its
figures; the run says what arrived and what the user already decided. `ending_of` turns both
into one `Ending`, which the controller shows. A prompt too long for the model is not an ending
of this kind: the controller refuses it and offers a narrower target (`outcome.overflow_refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.edit.outcome import (NEEDS_FUNCTION, NOTHING, Notice, SyntaxProblem, out_of_scope_notice,
                                   unchanged_notice)
from app.core.edit.states import Mode
from app.core.edit.view import EditRun
from wire import Problem


@dataclass(frozen=True)
class Ending:
    mode: Mode  # the mode the edit leaves the controller in
    status: str  # the status line, in full sentences
    level: str  # the status line's colour: info / ok / warn / error
    notice: Notice | None = None  # shown above the diff until the next edit (None: none)
    keep_instruction: bool = False  # the instruction goes back into the bar, to send again


@dataclass(frozen=True)
class Model:
    name: str  # the engine's model, for messages ("" before the engine said)
    skill_examples: tuple[str, ...]  # one example per skill (() = free-form)


def ending_of(run: EditRun, reason: str, summary: str, error: Problem | None, out_of_scope: bool,
              undecided: int, hunks: int, problem: SyntaxProblem | None, model: Model) -> Ending:
    """The ending of `run`: `summary` is its speed ("40 tokens, 1,200 tok/s"), `undecided` and
    `hunks` count its final changes left to review and in all, `problem` where its result stops
    parsing (checked only for an edit that ended normally or by a stop)."""
    if out_of_scope and run.notices.get(NEEDS_FUNCTION):  # the skill edits one function: the engine says why
        return Ending(Mode.REVIEWING if undecided else Mode.IDLE,
                      f"Not edited: “{run.instruction}” needs a function to work on (see above the diff).", "warn",
                      Notice(NEEDS_FUNCTION, run.notices[NEEDS_FUNCTION]), keep_instruction=True)
    if out_of_scope:
        return Ending(Mode.REVIEWING if undecided else Mode.IDLE,
                      f"Not edited: “{run.instruction}” is outside what {model.name or 'this model'} can do "
                      "(see above the diff).", "warn",
                      out_of_scope_notice(run.instruction, model.name, model.skill_examples), keep_instruction=True)
    if error is not None:  # e.g. a remote server that refused or broke off the request
        return Ending(Mode.STOPPED if run.output else Mode.IDLE,
                      f"The edit failed after {summary}: {error.message or error.code}", "error",
                      keep_instruction=not run.output)
    if run.stopped:
        broken = f" ⚠ Accepting all of it would break the file ({problem.describe()})." if problem else ""
        return Ending(Mode.STOPPED, f"Stopped after {summary}. Review the partial edit, or type a new "
                      f"instruction and press Enter to redirect.{broken}", "warn")
    hint = " (output hit the length limit)" if reason == "length" else ""
    if undecided and run.unparsable:
        where = f" ({problem.describe()})" if problem else ""
        return Ending(Mode.REVIEWING, f"Done: {summary}{hint}; ⚠ the edited code does not parse{where}: "
                      f"review the {undecided} change(s) before accepting.", "warn")
    if undecided and run.not_the_edit:
        return Ending(Mode.REVIEWING, f"Done: {summary}{hint}; ⚠ {run.not_the_edit}.", "warn")
    if undecided:
        return Ending(Mode.REVIEWING, f"Done: {summary}{hint}; {undecided} change(s) to review.", "ok")
    if not hunks and reason == "eos" and run.notices.get(NOTHING):  # the engine: nothing for the skill here
        return Ending(Mode.IDLE, "Done: nothing to change (see above the diff).", "info",
                      Notice(NOTHING, run.notices[NOTHING] + " Your instruction stays in the bar: put the cursor "
                             "in other code (or select it) and press Enter."), keep_instruction=True)
    if not hunks and reason == "eos" and model.skill_examples:  # a skill that found nothing to do
        return Ending(Mode.IDLE, f"Done: {summary}; the model left the code unchanged (see above the diff).",
                      "warn", unchanged_notice(run.instruction, model.name, model.skill_examples),
                      keep_instruction=True)
    what = "every change already reviewed" if hunks else "no change to the code"
    return Ending(Mode.IDLE, f"Done: {summary}{hint}; {what}.", "ok")
