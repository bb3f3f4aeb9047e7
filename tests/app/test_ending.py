"""What the status line and the mode say when an edit ends (the controller shows `ending_of`'s answer)."""

from __future__ import annotations

from app.core.edit.ending import Model, ending_of
from app.core.edit.outcome import SyntaxProblem
from app.core.edit.states import Mode
from app.core.edit.targeting import choose_target
from app.core.edit.view import EditRun
from wire import Problem

SOURCE = "def f(x):\n    return x\n"
MINI = Model("tessera-edit-mini", ("rename variable x to total", "add a docstring"))


def a_run(output: str = "", stopped: bool = False, unparsable: bool = False) -> EditRun:
    return EditRun("r1", "add a docstring", choose_target(SOURCE, 0, len(SOURCE)), SOURCE, 0.0, output=output,
                   stopped=stopped, unparsable=unparsable)


def test_a_finished_edit_with_changes_waits_for_review():
    ending = ending_of(a_run("x"), "eos", "3 tokens", None, False, undecided=2, hunks=2, problem=None, model=MINI)
    assert ending.mode == Mode.REVIEWING and ending.level == "ok"
    assert ending.status == "Done: 3 tokens; 2 change(s) to review."
    assert not ending.keep_instruction and ending.notice is None


def test_a_finished_edit_that_changed_nothing_returns_to_idle_and_says_why():
    ending = ending_of(a_run(SOURCE), "length", "9 tokens", None, False, 0, 0, None, MINI)
    assert ending.mode == Mode.IDLE
    assert ending.status == "Done: 9 tokens (output hit the length limit); no change to the code."
    decided = ending_of(a_run(SOURCE), "eos", "9 tokens", None, False, 0, 1, None, MINI)
    assert decided.status.endswith("every change already reviewed.")


def test_a_skill_that_changed_nothing_says_so_keeps_the_instruction_and_offers_a_larger_model():
    ending = ending_of(a_run(SOURCE), "eos", "9 tokens", None, False, 0, 0, None, MINI)
    assert ending.mode == Mode.IDLE and ending.level == "warn" and ending.keep_instruction
    assert ending.status == "Done: 9 tokens; the model left the code unchanged (see above the diff)."
    kind, text, action = ending.notice.parts()
    assert kind == "unchanged" and action == "Choose a model…"
    assert "“add a docstring”" in text and "tessera-edit-mini" in text and "rename variable x to total" in text
    free_form = ending_of(a_run(SOURCE), "eos", "9 tokens", None, False, 0, 0, None, Model("qwen", ()))
    assert free_form.notice is None and free_form.status == "Done: 9 tokens; no change to the code."


def test_nothing_to_change_shows_the_engines_reason_without_offering_a_larger_model():
    run = a_run(SOURCE)
    run.notices["nothing_to_change"] = "Nothing to change for 'add a docstring': `f` has a docstring already."
    ending = ending_of(run, "eos", "0 tokens", None, False, 0, 0, None, MINI)
    assert ending.mode == Mode.IDLE and ending.level == "info" and ending.keep_instruction
    assert ending.status == "Done: nothing to change (see above the diff)."
    kind, text, action = ending.notice.parts()
    assert kind == "nothing_to_change" and action == "" and text.startswith("Nothing to change for 'add a docstring'")


def test_an_edit_that_does_not_parse_warns_with_the_line_before_review():
    problem = SyntaxProblem(out_line=1, file_line=2, message="invalid syntax")
    ending = ending_of(a_run("x", unparsable=True), "eos", "5 tokens", None, False, 1, 1, problem, MINI)
    assert ending.mode == Mode.REVIEWING and ending.level == "warn"
    assert "does not parse (line 2: invalid syntax)" in ending.status and "review the 1 change(s)" in ending.status


def test_a_stopped_edit_offers_review_or_a_redirect_and_names_a_break():
    problem = SyntaxProblem(out_line=0, file_line=1, message="unexpected EOF")
    ending = ending_of(a_run("x", stopped=True), "stop", "4 tokens", None, False, 1, 1, problem, MINI)
    assert ending.mode == Mode.STOPPED and ending.level == "warn"
    assert ending.status.startswith("Stopped after 4 tokens.") and "(line 1: unexpected EOF)" in ending.status


def test_out_of_scope_keeps_the_instruction_and_names_the_models_skills():
    ending = ending_of(a_run(), "eos", "0 tokens", None, True, 0, 0, None, MINI)
    assert ending.mode == Mode.IDLE and ending.keep_instruction and ending.level == "warn"
    assert "outside what tessera-edit-mini can do" in ending.status
    assert ending.notice is not None and "“rename variable x to total”" in ending.notice.text


def test_a_failed_request_keeps_the_instruction_only_if_nothing_arrived():
    error = Problem("remote_error", "the server closed the stream")
    empty = ending_of(a_run(), "error", "0 tokens", error, False, 0, 0, None, MINI)
    assert empty.mode == Mode.IDLE and empty.keep_instruction and empty.level == "error"
    assert empty.status == "The edit failed after 0 tokens: the server closed the stream"
    partial = ending_of(a_run("x"), "error", "1 tokens", error, False, 1, 1, None, MINI)
    assert partial.mode == Mode.STOPPED and not partial.keep_instruction
