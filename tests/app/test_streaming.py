"""The engine's messages into an edit's streaming diff and the view, with a fake view. No Qt.

`EditStream` is driven here as the controller drives it (`begin`, `handle`, `finish`, `resume`);
the diffs are the real `StreamingDiff`. The controller's tests cover the same messages through
`EditController.handle`, and the end-to-end tests on a real engine and real widgets.
"""

from __future__ import annotations

from app.core.edit.review import hunk_key
from app.core.edit.states import HunkState
from app.core.edit.streaming import EditStream
from app.core.edit.targeting import choose_target
from app.core.edit.view import EditRun
from tests.app.test_controller import SOURCE, FakeView, token


def streaming(view: FakeView, instruction: str = "edit") -> tuple[EditStream, EditRun]:
    stream = EditStream(lambda: view)
    run = EditRun("r1", instruction, choose_target(view.text, 0, len(view.text)), view.text, 0.0)
    stream.begin(run)
    assert view.diff is stream.diff and stream.diff.output_text == ""
    return stream, run


def test_the_first_paint_is_asked_for_before_the_first_token_goes_into_the_view():
    view = FakeView(SOURCE)
    stream, run = streaming(view)
    calls: list[str] = []
    painted: list = []
    fed = view.diff_update

    def diff_update(update, text):  # a view that paints output after a pause at once
        calls.append("diff_update")
        fed(update, text)
        for callback in painted:
            callback()
        painted.clear()

    view.after_paint = lambda callback: (calls.append("after_paint"), painted.append(callback))  # type: ignore[method-assign]
    view.diff_update = diff_update  # type: ignore[method-assign]
    stream.handle(run, token("line_0 = 0\n"))
    assert calls == ["after_paint", "diff_update"]
    assert len(stream.ttft_ms) == 1 and stream.ttft_ms[0] > 0  # timed by that very paint
    stream.handle(run, token("line_1 = 1\n"))
    assert calls == ["after_paint", "diff_update", "diff_update"] and len(stream.ttft_ms) == 1  # once a request
    assert run.output == view.fed == "line_0 = 0\nline_1 = 1\n" and run.tokens == 2


def test_a_redirect_is_timed_from_the_first_token_after_the_engine_says_redirected():
    view = FakeView(SOURCE)
    stream, run = streaming(view)
    stream.handle(run, token("line_0 = 0\n"))
    run.redirect_enter_s, run.redirect_armed = 0.0, False  # Enter mid-stream: old tokens may still come
    stream.handle(run, token("line_1 = 1\n"))
    assert stream.redirect_latencies_ms == []
    stream.handle(run, {"type": "redirected", "request": "r1", "instruction": "use hex"})
    assert view.redirect_marks == ["use hex"] and stream.diff.redirects[0].instruction == "use hex"
    stream.handle(run, token("line_2 = 0x2\n"))
    assert len(stream.redirect_latencies_ms) == 1 and run.redirect_enter_s is None
    assert view.status[-1][0].startswith("Redirected — first new token painted")


def test_a_notice_is_kept_on_the_run_and_shown_as_a_warning():
    view = FakeView(SOURCE)
    stream, run = streaming(view)
    stream.handle(run, {"type": "notice", "request": "r1", "code": "unparsable", "message": "no longer parses"})
    assert run.notices == {"unparsable": "no longer parses"}
    assert view.status[-1] == ("no longer parses", "warn")


def test_a_stopped_edit_resumed_by_a_redirect_streams_on_with_its_output_and_decisions():
    view = FakeView(SOURCE)
    stream, run = streaming(view)
    output = SOURCE.replace("line_1 = 1\n", "line_1 = 100\n")
    head = output[: output.index("line_6")]
    stream.handle(run, token(head))
    stream.finish(run, True)
    assert view.finished == [True] and stream.diff.done
    run.resolved[hunk_key(stream.diff.final_hunks[0])] = HunkState.ACCEPTED  # as an accept records it
    settled = stream.diff
    run.instruction = "use hex"
    stream.resume(run)
    assert stream.diff is not settled and view.diff is stream.diff and not stream.diff.done
    assert stream.diff.output_text == head and view.redirect_marks == ["use hex"]
    assert view.states == {0: HunkState.ACCEPTED}  # the accept taken before the stop shows again


def test_only_python_is_checked_for_parsing_and_a_stopped_edit_keeps_the_original_past_its_last_change():
    view = FakeView(SOURCE)
    stream, run = streaming(view)
    stream.handle(run, token("line_0 = (\n"))  # stopped here: the rest of the file stays as it was
    stream.finish(run, True)
    problem = stream.check_parses(run, "stop")
    assert problem is not None and run.unparsable and view.problem_line == problem.out_line
    assert view.notice[0] == "unparsable"
    view.language = lambda: "text"  # type: ignore[method-assign]
    other, run = streaming(view)
    other.handle(run, token("line_0 = (\n"))
    other.finish(run, True)
    assert other.check_parses(run, "stop") is None and not run.unparsable
