"""The controller's honest outcomes with a fake view: out of scope, does not parse, too long. No Qt."""

from __future__ import annotations

from tests.app.test_controller import FakeView, consume, streaming_controller, token

SOURCE = "def tally(items):\n    total = 0\n    for item in items:\n        total += item\n    return total\n"


def done(**stats) -> dict:
    return {"type": "done", "request": "r1", "reason": "eos", "stats": {"decode_tok_s": 900.0, **stats}}


def test_accept_all_on_an_edit_that_does_not_parse_asks_and_applies_only_on_yes():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    broken = SOURCE.replace("total", "lambda")
    message = "the edited code no longer parses (it did before); review it before accepting"
    consume(controller, run, [token(broken), {"type": "notice", "request": "r1", "code": "unparsable",
                                              "message": message}, done()])
    assert run.unparsable and controller.mode == "reviewing"
    assert view.problem_line == 1 and view.notice[0] == "unparsable" and "line 2" in view.notice[1]
    assert "does not parse" in view.status[-1][0] and view.status[-1][1] == "warn"
    assert controller.accept_all() == 0 and view.text == SOURCE  # asked, nothing applied yet
    question, then = view.question
    assert "does not parse" in question
    then()  # "Accept anyway"
    assert view.text == broken and controller.mode == "idle"


def test_an_edit_that_parses_is_accepted_without_a_question():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    consume(controller, run, [token(SOURCE.replace("total", "count")), done()])
    assert not run.unparsable and controller.accept_all() == len(controller.diff.final_hunks) > 0
    assert not hasattr(view, "question")


def test_out_of_scope_is_not_done_it_names_the_skills_and_keeps_the_instruction():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view, "add type hints")
    controller.engine.describe_model("tessera-edit-mini", ("rename variable x to total", "add a docstring"))
    consume(controller, run, [{"type": "notice", "request": "r1", "code": "out_of_scope", "message": "outside"},
                              token(SOURCE), done(out_of_scope=True, tokens=0)])
    kind, text, action = view.notice
    assert kind == "out_of_scope" and "“rename variable x to total”" in text and action == "Choose a model…"
    status, level = view.status[-1]
    assert status.startswith("Not edited") and level == "warn" and "Done" not in status
    assert view.kept == "add type hints"


def test_the_engines_context_overflow_names_the_limit_keeps_the_instruction_and_offers_to_narrow():
    text = SOURCE + "\n\ndef other():\n    return 1\n"
    view = FakeView(text)
    controller, run = streaming_controller(view)  # the whole file is the target
    view.sel = (text.index("total = 0"), text.index("total = 0"))
    refusal = "the statement at line 8 alone needs about 900 tokens; tessera-edit-mini holds 512 tokens"
    consume(controller, run, [{"type": "done", "request": "r1", "reason": "error", "stats": {
        "error": {"code": "context_overflow", "message": refusal}}}])
    kind, said, action = view.notice
    assert kind == "overflow" and "512" in said and action == "Narrow to function tally"
    assert view.kept == "edit" and view.status[-1][1] == "error"
    assert controller.narrow_target()
    assert view.sel == (0, len(SOURCE)) and view.notice is None


def test_a_stopped_edit_whose_partial_changes_would_break_the_file_says_so_and_asks():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    partial = 'def tally(items):\n    """Sum the\n'  # stopped inside a docstring being written
    consume(controller, run, [token(partial), {"type": "done", "request": "r1", "reason": "stop", "stats": {}}])
    assert controller.mode == "stopped" and run.unparsable
    assert "would break the file" in view.status[-1][0] and view.notice[0] == "unparsable"
    assert controller.accept_all() == 0 and view.text == SOURCE and "does not parse" in view.question[0]


def test_an_edit_the_engine_finds_is_not_the_skills_edit_warns_and_accept_all_asks():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    wrong = SOURCE.replace("    total = 0\n", "    count = 0\n")  # parses; one use renamed, the others not
    message = "the edit differs from renaming total to count at line 2: review it before accepting"
    consume(controller, run, [token(wrong), {"type": "notice", "request": "r1", "code": "not_the_edit",
                                             "message": message}, done()])
    assert run.not_the_edit == message and not run.unparsable and controller.mode == "reviewing"
    assert view.notice[0] == "not_the_edit" and "renaming total to count at line 2" in view.notice[1]
    status, level = view.status[-1]
    assert status.startswith("Done: ") and status.endswith(f"; ⚠ {message}.") and level == "warn"
    assert controller.accept_all() == 0 and view.text == SOURCE  # asked first
    question, then = view.question
    assert "renaming total to count at line 2" in question
    then()
    assert view.text == wrong
