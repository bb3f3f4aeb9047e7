"""The app on chat-model exports (Optimum and onnxruntime-genai layouts), with a real engine process
started with ``--model`` on the folder: the edit streams into the diff pane and Stop stops it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.qt.assembly import assemble
from tests.e2e.test_app_e2e import SOURCE, load, send, wait_done, wait_mode
from tests.foreign import FOREIGN

WAIT_MS = 60_000
FOLDERS = ["qwen2-genai-int4", "llama3-optimum", "phi3-genai-fp32", "gemma2-genai-int4"]


@pytest.fixture(params=FOLDERS)
def foreign_window(request, qtbot, run_async):
    parts = assemble(model_dir=str(FOREIGN / request.param))
    win, link = parts.window, parts.link
    qtbot.addWidget(win)
    win.controller.configure(seed=7, temperature=0.0)  # greedy: random weights rarely choose an EOS token
    win.show()
    run_async(link.start(), WAIT_MS)
    yield win
    win.stop_timers()
    run_async(parts.shutdown(), WAIT_MS)


def test_an_edit_streams_and_stop_ends_it(qtbot, foreign_window):
    window = foreign_window
    load(window)
    window.controller.configure(max_tokens=150)
    send(qtbot, window, "add type hints")
    wait_done(qtbot, window)
    run = window.controller.run
    assert run.stats.tokens_out == 150 and run.output  # streamed through the chat template's prompt
    assert run.stats.prompt_tokens > 100  # system message + fenced code + instruction
    assert "Done" in window.status_label.text()
    assert window.editor.toPlainText() == SOURCE

    window.controller.configure(max_tokens=100_000)
    send(qtbot, window, "rename radius to r")
    qtbot.waitUntil(lambda: window.controller.run is not run and window.controller.run is not None
                    and window.controller.run.tokens > 0, timeout=WAIT_MS)
    qtbot.keyClick(window.bar.field, Qt.Key.Key_Escape)
    wait_mode(qtbot, window, "stopped")
    stopped = window.controller.run
    assert 0 < stopped.stats.tokens_out < 100_000
    assert "Stopped" in window.status_label.text()
    assert window.editor.toPlainText() == SOURCE
