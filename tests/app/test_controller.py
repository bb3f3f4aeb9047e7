"""The controller with a fake view: review while streaming, conflicts, redirect bookkeeping.

No Qt and no engine here: engine messages are handed to the controller as the client would, diffs
go through the real `StreamingDiff`; the end-to-end tests cover the same paths on a real engine.
"""

from __future__ import annotations

from typing import Any

from app.core.diff.stream import DiffUpdate, Redirect, StreamingDiff
from app.core.edit.controller import EditController
from app.core.edit.states import HunkState
from app.core.edit.targeting import choose_target
from app.core.edit.view import EditRun

SOURCE = "".join(f"line_{i} = {i}\n" for i in range(12))


class FakeView:
    """Records what the controller shows; holds the document text like an editor would."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sel = (0, 0)
        self.diff: StreamingDiff | None = None
        self.states: dict[int, str] = {}
        self.status: list[tuple[str, str]] = []
        self.modes: list[str] = []
        self.undo_steps: list[list[tuple[int, int, str]]] = []
        self.redirect_marks: list[str] = []
        self.finished: list[bool] = []
        self.fed = ""  # output text the controller reported feeding into the diff

    def document_text(self) -> str: return self.text
    def selection(self) -> tuple[int, int]: return self.sel
    def language(self) -> str: return "python"
    def document_path(self) -> str | None: return None
    def show_target(self, start: int, end: int, label: str) -> None: pass
    def clear_target(self) -> None: pass
    def preview_target(self, label: str) -> None: pass

    def diff_begin(self, diff: StreamingDiff) -> None:
        self.diff = diff  # shown, never fed here: the controller owns it
        self.states.clear()

    def diff_update(self, update: DiffUpdate, text: str) -> None:
        assert self.diff is not None and not update.done
        self.fed += text

    def diff_redirect(self, redirect: Redirect) -> None: self.redirect_marks.append(redirect.instruction)
    def diff_finished(self, update: DiffUpdate, stopped: bool) -> None:
        assert update.done
        self.finished.append(stopped)
    def set_hunk_state(self, index: int, state: HunkState) -> None: self.states[index] = state

    def replace_ranges(self, edits: list[tuple[int, int, str]]) -> None:
        self.undo_steps.append(edits)
        for start, end, new in sorted(edits, reverse=True):
            self.text = self.text[:start] + new + self.text[end:]

    def set_mode(self, mode: str) -> None: self.modes.append(mode)
    def show_status(self, text: str, level: str = "info") -> None: self.status.append((text, level))
    def keep_instruction(self, instruction: str) -> None: self.kept = instruction
    def show_context(self, used: int, total: int, fits: bool, windows: int = 0) -> None: pass
    def metrics_start(self, t_s: float) -> None: pass
    def metrics_tokens(self, count: int, t_s: float, draft: int) -> None: pass
    def metrics_first_paint(self, t_s: float) -> None: pass
    def metrics_done(self, stats) -> None: pass
    def after_paint(self, callback) -> None: callback()
    def feed_tiles(self, msg: dict[str, Any]) -> None: pass
    def show_notice(self, kind: str, text: str, action: str = "") -> None: self.notice = (kind, text, action)
    def clear_notice(self) -> None: self.notice = None
    def diff_mark_problem(self, out_line: int) -> None: self.problem_line = out_line
    def confirm(self, question: str, yes: str, then) -> None: self.question = (question, then)
    def set_selection(self, start: int, end: int) -> None: self.sel = (start, end)


def streaming_controller(view: FakeView, instruction: str = "edit") -> tuple[EditController, EditRun]:
    controller = EditController(view)
    target = choose_target(view.text, 0, len(view.text))
    run = EditRun("r1", instruction, target, view.text, 0.0)
    controller.begin_run(run)
    assert view.diff is controller.diff  # the view shows the controller's diff
    return controller, run


def token(text: str) -> dict[str, Any]:
    return {"type": "token", "request": "r1", "index": 0, "text": text, "count": 1, "draft": 0}


def consume(controller: EditController, run: EditRun, messages: list[dict[str, Any]]) -> None:
    for msg in messages:
        controller.handle(run, msg)


def test_a_settled_hunk_can_be_accepted_while_the_stream_runs():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    # The model rewrites line 1, then copies on: the copied lines settle hunk 0.
    output = SOURCE.replace("line_1 = 1\n", "line_1 = 100\n")
    head = output[: output.index("line_6")]
    consume(controller, run, [token(head)])
    assert controller.mode == "streaming" and controller.diff.final_hunks
    assert controller.accept_hunks([0]) == 1
    assert view.text == SOURCE.replace("line_1 = 1\n", "line_1 = 100\n")
    assert len(view.undo_steps) == 1  # one undo step
    assert view.states == {0: "accepted"}
    # The stream goes on and ends; the accepted hunk is not offered again.
    consume(controller, run, [token(output[len(head):]),
                              {"type": "done", "request": "r1", "reason": "eos", "stats": {"decode_tok_s": 900.0}}])
    assert controller.mode == "idle"  # nothing left to review
    assert controller.accept_all() == 0
    assert view.text == output


def test_a_hunk_still_streaming_cannot_be_accepted():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    consume(controller, run, [token("changed_0 = 0\n")])
    assert controller.accept_hunks([0]) == 0
    assert view.text == SOURCE
    assert "still streaming" in view.status[-1][0]


def test_typing_inside_a_hunk_after_the_start_is_never_overwritten():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    output = SOURCE.replace("line_3 = 3\n", "line_3 = 300\n")
    consume(controller, run, [token(output), {"type": "done", "request": "r1", "reason": "eos"}])
    view.text = view.text.replace("line_3 = 3\n", "line_3 = 3  # mine\n")
    assert controller.accept_all() == 0
    assert "line_3 = 3  # mine" in view.text
    assert view.states == {0: "conflict"}
    assert view.status[-1][1] == "error"


def test_redirect_marks_the_diff_where_the_engine_says():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    consume(controller, run, [token("line_0 = 0\n"),
                              {"type": "redirected", "request": "r1", "instruction": "use hex"},
                              token("line_1 = 0x1\n"),
                              {"type": "done", "request": "r1", "reason": "stop"}])
    assert view.redirect_marks == ["use hex"]
    assert controller.mode == "stopped" and view.finished == [True]
    assert run.output == "line_0 = 0\nline_1 = 0x1\n"


def test_engine_lost_mid_stream_keeps_the_text_and_says_so():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    consume(controller, run, [token("line_0 = 0\n"),
                              {"type": "error", "request": "r1", "code": "engine_lost", "message": "gone"}])
    assert view.text == SOURCE
    assert controller.mode == "stopped"
    assert "stopped unexpectedly" in view.status[-1][0] and view.status[-1][1] == "error"


def test_done_on_an_emulated_profile_reports_the_pace_the_user_saw_first():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    stats = {"decode_tok_s": 1154.0, "paced": True, "emulated_tok_s": 20.8, "tokens_out": 1}
    consume(controller, run, [token("line_0 = 0\n"), {"type": "done", "request": "r1", "reason": "eos",
                                                       "stats": stats}])
    assert "1 tokens, 21 tok/s emulated (1,154 computed here)" in view.status[-1][0]


def test_a_remote_request_names_its_transport_and_the_predicted_output_acceptance():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    stats = {"decode_tok_s": 80.0, "tokens_out": 1, "backend": "remote", "transport": "http",
             "draft_accepted_tokens": 40, "draft_proposed_tokens": 52}
    consume(controller, run, [token("line_0 = 0\n"), {"type": "done", "request": "r1", "reason": "eos",
                                                       "stats": stats}])
    assert "via http; predicted output 40/52 tokens accepted" in view.status[-1][0]


def test_an_error_done_says_why_and_keeps_the_partial_edit():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    stats = {"tokens_out": 1, "backend": "remote", "transport": "websocket",
             "error": {"code": "upstream_timeout", "message": "no event from the server within 60 s"}}
    consume(controller, run, [token("line_0 = 0\n"), {"type": "done", "request": "r1", "reason": "error",
                                                       "stats": stats}])
    text, level = view.status[-1]
    assert level == "error" and "no event from the server within 60 s" in text
    assert controller.mode == "stopped" and view.text == SOURCE


def test_a_refused_edit_hands_its_instruction_back_to_the_bar():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view, "rename line_1 to first")
    controller.handle(run, {"type": "error", "request": "r1", "code": "context_overflow",
                            "message": "needs 900 tokens; the context holds 512"})
    assert view.kept == "rename line_1 to first"
    assert "512" in view.status[-1][0] and view.status[-1][1] == "error"


def test_a_ready_while_an_edit_streams_records_the_count_and_leaves_the_meter_to_the_edit():
    view = FakeView(SOURCE)
    controller, run = streaming_controller(view)
    reads: list[int] = []
    shown: list[int] = []
    view.document_text = lambda: reads.append(1) or view.text  # type: ignore[method-assign]
    view.show_context = lambda used, total, fits, windows=0: shown.append(used)  # type: ignore[method-assign]
    controller.engine.on_ready({"type": "ready", "prompt_tokens": 321, "context_length": 4096})
    assert controller.engine.prompt_tokens == 321 and controller.engine.context_length == 4096
    assert reads == [] and shown == []  # no text read, no target sought while the first token is due
    consume(controller, run, [token(SOURCE), {"type": "done", "request": "r1", "reason": "eos"}])
    controller.engine.on_ready({"type": "ready", "prompt_tokens": 322, "context_length": 4096})
    assert reads and shown  # idle: the meter follows the engine's count
