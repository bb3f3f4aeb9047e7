"""The app's link to the engine under stress: kills mid-stream, shared engines, closed sessions,
a broken model folder, and a document far larger than one frame."""

from __future__ import annotations

import os
import random
import signal

import pytest
from PySide6.QtCore import Qt

from app.core.files.textcodec import encode
from app.core.link.client import EngineError
from app.core.link.engine_link import one_line
from app.qt.assembly import assemble, shutdown
from tests.conftest import trials
from tests.e2e.test_app_e2e import SOURCE, send, wait_done

WAIT_MS = 60_000
# The user's file: CRLF breaks, a no-break space and a line separator the editor must not touch.
FILE_BYTES = SOURCE.replace("\n", "\r\n").replace("debug", "de\u00a0bug\u2028").encode()


def editor_bytes(window) -> bytes:
    decoded = window.files.decoded
    return encode(window.document_text(), decoded.fmt, decoded.endings)


def test_engine_kills_at_random_points_of_a_stream_cost_no_byte_and_one_enter_recovers(qtbot, window, assembled,
                                                                                       tmp_path):
    path = tmp_path / "shapes.py"
    path.write_bytes(FILE_BYTES)
    assert window.open_path(str(path))
    qtbot.waitUntil(lambda: window.controller.engine.opened, timeout=WAIT_MS)
    rng = random.Random(2026)
    for trial in range(trials(ci=3, by_hand=50)):
        window.controller.configure(max_tokens=100_000)
        send(qtbot, window, "add type hints")
        at = rng.randint(1, 30)  # a random point of the stream
        qtbot.waitUntil(lambda: window.controller.run is not None and window.controller.mode == "streaming"
                        and window.controller.run.tokens >= at, timeout=WAIT_MS)
        if trial % 2:  # Esc first, then the engine dies: Enter must still recover
            qtbot.keyClick(window.bar.field, Qt.Key.Key_Escape)
            qtbot.waitUntil(lambda: window.controller.mode == "stopped", timeout=WAIT_MS)
        killed_run, process = window.controller.run, assembled.link.process
        os.kill(process.pid, signal.SIGKILL)
        qtbot.waitUntil(lambda: process.returncode is not None and not window.controller.engine.client.connected,
                        timeout=WAIT_MS)
        assert editor_bytes(window) == FILE_BYTES and path.read_bytes() == FILE_BYTES
        # One Enter: a new engine starts and the edit streams.
        window.controller.configure(max_tokens=5)
        send(qtbot, window, "add a docstring")
        wait_done(qtbot, window, previous_run=killed_run)
        assert assembled.link.process is not process and window.controller.run.tokens > 0
        assert "engine is gone" not in window.status_label.text()
        assert editor_bytes(window) == FILE_BYTES
        window.controller.reject_all()


def test_two_windows_share_one_engine_without_sharing_ids(qtbot, qloop, run_async, engine_process, monkeypatch):
    monkeypatch.setenv("TESSERA_TOKEN", engine_process.token)
    windows, links = [], []
    for n in range(2):
        parts = assemble(engine_url=engine_process.url)
        win, link = parts.window, parts.link
        qtbot.addWidget(win)
        win.controller.configure(seed=n, temperature=1.0, max_tokens=12)
        win.show()
        win.editor.setPlainText(SOURCE if n == 0 else SOURCE.replace("radius", "r"))
        run_async(link.start())
        windows.append(win)
        links.append(link)
    try:
        a, b = windows
        assert a.controller.engine.session != b.controller.engine.session
        for win, instruction in ((a, "add type hints"), (b, "add a docstring")):
            win.activateWindow()  # keys go to the active window, as on a desktop
            qtbot.waitUntil(win.isActiveWindow, timeout=WAIT_MS)
            send(qtbot, win, instruction)
        wait_done(qtbot, a)
        wait_done(qtbot, b)
        assert a.controller.run.request_id != b.controller.run.request_id
        assert a.controller.run.tokens > 0 and b.controller.run.tokens > 0
        assert a.controller.run.finished and b.controller.run.finished
    finally:
        for win, link in zip(windows, links):
            win.stop_timers()
            run_async(shutdown(win.controller, link))


def test_opening_another_file_closes_the_old_session_in_the_engine(qtbot, window, run_async, tmp_path):
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text(SOURCE)
    second.write_text("x = 1\n")
    assert window.open_path(str(first))
    qtbot.waitUntil(lambda: window.controller.engine.opened, timeout=WAIT_MS)
    old = window.controller.engine.session
    assert window.open_path(str(second))
    qtbot.waitUntil(lambda: window.controller.engine.opened and window.controller.engine.session != old,
                    timeout=WAIT_MS)
    with pytest.raises(EngineError):
        run_async(window.controller.engine.client.measure(old, "edit", (0, 0)))
    assert window.controller.engine.client.connected


def test_a_broken_model_folder_falls_back_to_the_bundled_model_and_says_why_in_one_line(qtbot, qloop, run_async,
                                                                                     tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model.onnx").write_bytes(b"not an onnx graph" * 100)
    (broken / "config.json").write_text("{")
    parts = assemble(model_dir=str(broken))
    win, link = parts.window, parts.link
    qtbot.addWidget(win)
    win.show()
    try:
        reason = run_async(link.start_or_fall_back(), timeout_ms=120_000)
        assert reason and "\n" not in reason and "Traceback" not in reason
        status = win.status_label.text()
        assert "could not be loaded" in status and "bundled model" in status and "\n" not in status
        assert link.client.connected and link.model_dir is None
    finally:
        win.stop_timers()
        run_async(parts.shutdown())


def test_one_line_keeps_the_telling_line_of_a_traceback():
    message = ("The engine failed to start:\nTraceback (most recent call last):\n  File \"x.py\", line 3, in f\n"
               "    load()\nonnxruntime.InvalidProtobuf: [ONNXRuntimeError] Load model failed\n")
    assert one_line(message) == "onnxruntime.InvalidProtobuf: [ONNXRuntimeError] Load model failed"
