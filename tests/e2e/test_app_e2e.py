"""The app as a user drives it, against a real engine process over a real WebSocket.

The test model has random weights: its output is gibberish, so these tests assert what the user
sees happen (streaming, stopping, redirecting, applying, undoing), never the content.
"""

from __future__ import annotations

import os
import signal

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from engine.model.modelspec import MODELS_DIR

WAIT_MS = 30_000  # waits end as soon as their condition holds

SOURCE = '''import math


def area(radius):
    return math.pi * radius ** 2


def describe(shape, size):
    print("debug", shape)
    return "%s of size %d" % (shape, size)
'''


def load(window, text: str = SOURCE) -> None:
    window.editor.setPlainText(text)
    window.editor.document().setModified(False)


def select(window, start: int, end: int) -> None:
    cursor = window.editor.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    window.editor.setTextCursor(cursor)


def send(qtbot, window, instruction: str) -> None:
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.bar.field.hasFocus()
    qtbot.keyClicks(window.bar.field, instruction)
    qtbot.keyClick(window.bar.field, Qt.Key.Key_Return)


def diff_output(window) -> str:
    diff = window.controller.diff
    return diff.output_text if diff is not None else ""


def answer_parse_question(window) -> None:
    """The test model writes noise, which rarely parses: accept-all then asks first; say yes."""
    box = window.edit_view.confirm_box
    if box is not None and box.isVisible():
        next(b for b in box.buttons() if b.text() == "Accept anyway").click()


def wait_mode(qtbot, window, *modes: str) -> None:
    qtbot.waitUntil(lambda: window.controller.mode in modes, timeout=WAIT_MS)


def wait_done(qtbot, window, previous_run=None) -> None:
    """Until the engine ended the current request (done or error) and the window settled."""
    def settled():
        run = window.controller.run
        return (run is not None and run is not previous_run and run.finished
                and window.controller.mode != "streaming")
    qtbot.waitUntil(settled, timeout=WAIT_MS)


def test_tokens_stream_into_the_diff_pane_and_the_editor_stays_untouched(qtbot, window):
    load(window)
    cursor_in_area = SOURCE.index("math.pi")
    select(window, cursor_in_area, cursor_in_area)
    window.controller.configure(max_tokens=60)
    send(qtbot, window, "add a docstring")
    qtbot.waitUntil(lambda: diff_output(window) != "", timeout=WAIT_MS)
    wait_done(qtbot, window)
    run = window.controller.run
    assert run.target.kind == "function" and "area" in run.target.label
    assert 0 < run.tokens <= 60
    assert window.editor.toPlainText() == SOURCE  # nothing applied until the user accepts
    assert diff_output(window) == run.output
    # Click-to-first-token-painted arrives with the diff pane's next frame.
    qtbot.waitUntil(lambda: len(window.controller.ttft_ms) == 1, timeout=WAIT_MS)
    assert window.controller.ttft_ms[0] > 0
    assert run.started_s < run.sent_s < run.first_token_s  # Enter, `generate` out, first token painted
    assert "Done" in window.status_label.text()
    assert window.bar.field.text() == ""  # sent: the field is free for the next instruction


def test_stop_ends_the_stream_and_the_partial_edit_stays_reviewable(qtbot, window):
    load(window)
    window.controller.configure(max_tokens=100_000)
    send(qtbot, window, "add type hints")
    qtbot.waitUntil(lambda: window.controller.run is not None and window.controller.run.tokens > 0,
                    timeout=WAIT_MS)
    assert window.bar.stop_button.isEnabled()
    qtbot.keyClick(window.bar.field, Qt.Key.Key_Escape)
    wait_mode(qtbot, window, "stopped")
    run = window.controller.run
    tokens_at_stop = run.tokens
    assert 0 < tokens_at_stop < 100_000
    assert run.stats.tokens_out == tokens_at_stop  # every computed token reached the pane, no more
    assert run.finished and window.controller.diff.done
    assert not window.bar.stop_button.isEnabled()
    assert window.bar.accept_all_button.isEnabled()
    assert "Stopped" in window.status_label.text()
    assert window.editor.toPlainText() == SOURCE


def test_redirect_mid_stream_continues_and_marks_the_diff(qtbot, window):
    load(window)
    window.controller.configure(max_tokens=3000)
    send(qtbot, window, "add type hints")
    qtbot.waitUntil(lambda: window.controller.run is not None and window.controller.run.tokens > 0,
                    timeout=WAIT_MS)
    send(qtbot, window, "rename radius to r")
    wait_done(qtbot, window)
    run = window.controller.run
    diff = window.controller.diff
    assert run.instruction == "rename radius to r"
    assert [r.instruction for r in diff.redirects] == ["rename radius to r"]
    assert len(run.output) > diff.redirects[0].out_char  # tokens came after the redirect
    assert window.controller.redirect_latencies_ms
    assert window.controller.history.entries[-2:] == ["add type hints", "rename radius to r"]


def test_redirect_after_stop_continues_the_partial_edit(qtbot, window):
    load(window)
    window.controller.configure(max_tokens=100_000)
    send(qtbot, window, "add type hints")
    qtbot.waitUntil(lambda: window.controller.run is not None and window.controller.run.tokens > 0,
                    timeout=WAIT_MS)
    window.bar.stop_button.click()
    wait_mode(qtbot, window, "stopped")
    partial = window.controller.run.output
    assert window.bar.send_button.text().startswith("Redirect")
    send(qtbot, window, "and a docstring")
    wait_mode(qtbot, window, "streaming")
    qtbot.waitUntil(lambda: len(window.controller.run.output) > len(partial), timeout=WAIT_MS)
    window.bar.stop_button.click()
    wait_mode(qtbot, window, "stopped")
    run = window.controller.run
    assert run.output.startswith(partial)
    assert [r.instruction for r in window.controller.diff.redirects] == ["and a docstring"]


def test_accepting_a_hunk_is_one_undo_step(qtbot, window):
    load(window)
    select(window, SOURCE.index("def area"), SOURCE.index("def describe"))
    window.controller.configure(max_tokens=40)
    send(qtbot, window, "add a docstring")
    wait_done(qtbot, window)
    diff = window.controller.diff
    assert diff.final_hunks
    window.diff_view.hunkAccepted.emit(0)
    start = SOURCE.index("def area")
    expected = SOURCE[:start] + diff.apply([0]) + SOURCE[SOURCE.index("def describe"):]
    assert window.editor.toPlainText() == expected
    assert window.isWindowModified()
    window.editor.undo()
    assert window.editor.toPlainText() == SOURCE


def test_edits_typed_during_a_generation_are_kept(qtbot, window):
    load(window)
    select(window, SOURCE.index("def describe"), len(SOURCE))
    window.controller.configure(max_tokens=300)
    send(qtbot, window, "remove debug prints")
    qtbot.waitUntil(lambda: window.controller.run is not None and window.controller.run.tokens > 0,
                    timeout=WAIT_MS)
    # The user keeps working above the target while the edit streams.
    cursor = window.editor.textCursor()
    cursor.setPosition(0)
    window.editor.setTextCursor(cursor)
    qtbot.keyClicks(window.editor, "# typed while streaming")
    qtbot.keyClick(window.editor, Qt.Key.Key_Return)
    wait_done(qtbot, window)
    diff = window.controller.diff
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # accept all
    answer_parse_question(window)
    text = window.editor.toPlainText()
    assert text.startswith("# typed while streaming\nimport math\n")
    target_now = text[len("# typed while streaming\n") + SOURCE.index("def describe"):]
    assert target_now == diff.apply(range(len(diff.final_hunks)))


def test_a_hunk_whose_text_the_user_changed_is_refused(qtbot, window):
    load(window)
    select(window, SOURCE.index("def describe"), len(SOURCE))
    window.controller.configure(max_tokens=40)
    send(qtbot, window, "use f-strings")
    wait_done(qtbot, window)
    # The user rewrites the targeted function before accepting.
    edited = SOURCE.replace('print("debug", shape)', 'log.info("shape %s", shape)')
    cursor = window.editor.textCursor()
    cursor.select(QTextCursor.SelectionType.Document)
    cursor.insertText(edited)
    window.controller.accept_all()
    answer_parse_question(window)
    assert window.editor.toPlainText() == edited
    assert "you changed that text" in window.status_label.text()


def test_engine_killed_mid_stream_keeps_the_text_and_restarts_on_the_next_instruction(qtbot, window, assembled):
    load(window)
    window.controller.configure(max_tokens=100_000)
    send(qtbot, window, "add type hints")
    qtbot.waitUntil(lambda: window.controller.run is not None and window.controller.run.tokens > 0,
                    timeout=WAIT_MS)
    first_pid = assembled.link.process.pid
    os.kill(first_pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: "stopped unexpectedly" in window.status_label.text(), timeout=WAIT_MS)
    assert window.controller.mode in ("stopped", "idle")
    assert window.editor.toPlainText() == SOURCE
    assert not window.bar.stop_button.isEnabled()
    # The next instruction starts a fresh engine and streams again.
    window.controller.configure(max_tokens=20)
    killed_run = window.controller.run
    send(qtbot, window, "add a docstring")
    wait_done(qtbot, window, previous_run=killed_run)
    assert assembled.link.process.pid != first_pid
    assert 0 < window.controller.run.tokens <= 20


def test_a_target_too_large_for_the_model_is_refused_by_the_engine_with_its_limit(qtbot, window):
    # One statement far longer than the model's context: no window of it can fit, and the engine
    # (which checks the context itself, with no round trip before `generate`) says so.
    big = "VALUES = [\n" + "".join(f"    compute(value_{i}, {i}),\n" for i in range(1, 1500)) + "]\n"
    load(window, big)
    send(qtbot, window, "add type hints")
    qtbot.waitUntil(lambda: "longer context" in window.status_label.text(), timeout=WAIT_MS)
    assert str(window.controller.engine.context_length) in window.status_label.text()  # the limit is named
    assert window.controller.run.output == "" and window.controller.mode == "idle"
    assert window.bar.context_meter.property("overflow") is True
    assert window.bar.field.text() == "add type hints"  # the instruction stays, to send again on less code
    assert window.editor.toPlainText() == big


def test_a_bad_model_folder_is_refused_and_the_working_engine_comes_back(qtbot, window, assembled, tmp_path,
                                                                          run_async):
    load(window)
    first_pid = assembled.link.process.pid
    run_async(assembled.link.switch_model(str(tmp_path / "not-a-model")))
    assert "Could not load that model" in window.status_label.text()
    assert assembled.link.process.pid != first_pid and assembled.link.client.connected
    window.controller.configure(max_tokens=10)
    send(qtbot, window, "add a docstring")
    wait_done(qtbot, window)
    assert 0 < window.controller.run.tokens <= 10


def test_connecting_to_an_engine_started_elsewhere(qtbot, qloop, run_async, tmp_path):
    """`tessera --engine ws://… --token-file F`: the app streams from it and leaves it running."""
    from app.core.link.client import EngineProcess
    from app.qt.assembly import assemble
    
    remote = EngineProcess(MODELS_DIR / "tiny-random")
    url = run_async(remote.start())
    token_file = tmp_path / "token"
    token_file.write_text(remote.token + "\n")
    parts = assemble(engine_url=url, token_file=str(token_file))
    win, link = parts.window, parts.link
    qtbot.addWidget(win)
    win.show()
    try:
        run_async(link.start())
        assert link.process is None  # not ours
        load(win)
        win.controller.configure(max_tokens=15)
        send(qtbot, win, "add a docstring")
        wait_done(qtbot, win)
        assert 0 < win.controller.run.tokens <= 15
        win.stop_timers()
        run_async(parts.shutdown())
        assert remote.returncode is None  # closing the app leaves a remote engine running
    finally:
        assert run_async(remote.stop()) == 0


def test_an_emulated_profile_paces_the_stream_and_lights_the_wafer_view(qtbot, window):
    load(window)
    wafer = window.gauges.wafer
    layouts, frames = [], []
    set_layout, show_frame = wafer.set_layout, wafer.show_frame
    wafer.set_layout = lambda layout: (layouts.append(layout), set_layout(layout))
    wafer.show_frame = lambda frame: (frames.append(frame), show_frame(frame))
    assert not wafer.isVisible()  # "this machine": nothing to emulate, no wafer shown
    assert window.toolbar.select_profile("wse-3")
    assert window.controller.settings.profile == "wse-3" and wafer.isVisible()
    window.controller.configure(max_tokens=40)
    send(qtbot, window, "add type hints")
    wait_done(qtbot, window)
    assert len(layouts) == 1 and frames
    assert "WSE-3" in window.gauges.profile_label.text()


def test_esc_before_the_first_token_is_honoured(qtbot, window):
    # A document edited just before Enter is synced first: Esc lands during that set-up.
    load(window)
    window.editor.moveCursor(QTextCursor.MoveOperation.End)
    window.editor.insertPlainText("# edited just before Enter\n")
    select(window, SOURCE.index("math.pi"), SOURCE.index("math.pi"))  # the function is the target
    window.controller.configure(max_tokens=100_000)
    window.focus_instruction()
    qtbot.keyClicks(window.bar.field, "add type hints")
    qtbot.keyClick(window.bar.field, Qt.Key.Key_Return)
    assert window.controller.starting  # the request has not gone out yet
    qtbot.keyClick(window.bar.field, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.controller.starting, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.controller.mode != "streaming", timeout=WAIT_MS)
    run = window.controller.run
    assert run is None or run.stopped  # never sent, or stopped the moment it was
    assert "Stop" in window.status_label.text()
    assert window.bar.field.text() == "add type hints" or run is not None
