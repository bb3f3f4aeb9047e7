"""Reviewing an edit while it streams, with the bundled model on a real engine process.

The bundled model removes these prints correctly and finishes in a fraction of a second, too fast
to act mid-stream. The Hardware profile paces it instead: 8×H100 serving a 405B model releases tokens
at ~20 per second, as a user of that hardware would see them. The assertions hold for any chunking
of the stream (see `StreamGate`).
"""

from __future__ import annotations

import ast

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from app.qt.assembly import assemble
from engine.model.modelspec import MODELS_DIR

REVIEW_MODEL = MODELS_DIR / "tessera-edit-mini"
PROFILE, EMULATED_MODEL = "h100x8", "llama-3.1-405b"
WAIT_MS = 60_000  # generous for a shared machine; waits end as soon as their condition holds

SOURCE = '''"""Rectangle measures."""


def area(width, height):
    print("area:", width, height)
    return width * height


def perimeter(width, height):
    total = 2 * (width + height)
    print("perimeter:", total)
    return total
'''
WITHOUT_PRINTS = "".join(line for line in SOURCE.splitlines(keepends=True) if "print(" not in line)
FIRST_PRINT = '    print("area:", width, height)\n'


@pytest.fixture
def paced_window(qtbot, run_async):
    """The main window on the bundled model, streaming at the emulated hardware's pace."""
    parts = assemble(model_dir=str(REVIEW_MODEL))
    win, link = parts.window, parts.link
    qtbot.addWidget(win)
    win.show()
    run_async(link.start())
    assert win.toolbar.select_profile(PROFILE)
    win.controller.configure(emulate=EMULATED_MODEL)
    win.editor.setPlainText(SOURCE)
    win.editor.document().setModified(False)
    yield win
    win.stop_timers()
    run_async(parts.shutdown())


def start_removing_prints(qtbot, window) -> None:
    """Select both functions, Ctrl+K, type the instruction, Enter."""
    cursor = window.editor.textCursor()
    cursor.setPosition(SOURCE.index("def area"))
    cursor.setPosition(len(SOURCE), QTextCursor.MoveMode.KeepAnchor)
    window.editor.setTextCursor(cursor)
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.bar.field, "remove print statements")
    qtbot.keyClick(window.bar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.controller.mode == "streaming", timeout=WAIT_MS)


def wait_done(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.controller.run.finished and window.controller.mode != "streaming",
                    timeout=WAIT_MS)


def click_button(qtbot, window, hunk: int, action: str) -> None:
    view = window.diff_view
    view.scroll_to_hunk(hunk)
    qtbot.waitUntil(lambda: view.button_rect(hunk, action) is not None, timeout=WAIT_MS)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.button_rect(hunk, action).center())


class StreamGate:
    """Holds the engine's messages for a request once one of its changes has settled.

    On an emulated profile the engine may hand over the rest of an edit in one event (tokens
    computed while it waits for the emulated release time are merged), so the stream can end in
    the very frame its first change settles. Holding the later messages keeps the request running,
    as a slower stream would, whatever the chunking; `release` delivers them in order.
    """

    def __init__(self, controller) -> None:
        self.controller = controller
        self.held: list = []
        self._open = False
        self._handle = controller.handle
        controller.handle = self._gate

    def _gate(self, run, msg) -> None:
        diff = self.controller.diff
        if not self._open and diff is not None and diff.final_hunks:
            self.held.append((run, msg))
            return
        self._handle(run, msg)

    def release(self) -> None:
        self._open = True
        held, self.held = self.held, []
        for run, msg in held:
            self._handle(run, msg)


def test_a_settled_change_is_accepted_mid_stream_as_one_undo_step(qtbot, paced_window):
    window = paced_window
    controller = window.controller
    gate = StreamGate(controller)
    start_removing_prints(qtbot, window)
    qtbot.waitUntil(lambda: len(controller.diff.final_hunks) > 0, timeout=WAIT_MS)
    first = controller.diff.final_hunks[0]
    assert (first.kind, first.old_text) == ("delete", FIRST_PRINT)
    qtbot.waitUntil(lambda: len(gate.held) > 0, timeout=WAIT_MS)  # at least the engine's `done`
    assert controller.mode == "streaming" and not controller.run.finished
    click_button(qtbot, window, 0, "accept")
    assert window.editor.toPlainText() == SOURCE.replace(FIRST_PRINT, "")
    assert window.diff_view.hunk_state(0) == "accepted"
    gate.release()
    wait_done(qtbot, window)
    run = controller.run
    assert run.stats.tokens_out == run.tokens  # the whole edit arrived after the accept
    assert controller.mode == "reviewing" and controller.unresolved_final() == [1]
    assert window.editor.toPlainText() == SOURCE.replace(FIRST_PRINT, "")  # nothing else applied
    window.editor.setFocus()
    qtbot.keyClick(window.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.toPlainText() == SOURCE  # one Ctrl+Z restores it exactly


def test_accept_all_after_done_gives_the_file_without_prints(qtbot, paced_window):
    window = paced_window
    start_removing_prints(qtbot, window)
    wait_done(qtbot, window)
    assert window.controller.mode == "reviewing"
    assert [h.old_text for h in window.controller.diff.final_hunks] == [
        FIRST_PRINT, '    print("perimeter:", total)\n']
    window.diff_view.setFocus()
    qtbot.keyClick(window.diff_view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.controller.mode == "idle", timeout=WAIT_MS)
    text = window.editor.toPlainText()
    assert text == WITHOUT_PRINTS and "print(" not in text
    ast.parse(text)


def test_typing_elsewhere_during_the_stream_survives_the_accepts(qtbot, paced_window):
    window = paced_window
    start_removing_prints(qtbot, window)
    editor = window.editor
    # While the model streams: a new first line, and a comment on a line the edit keeps.
    cursor = editor.textCursor()
    cursor.setPosition(0)
    editor.setTextCursor(cursor)
    qtbot.keyClicks(editor, "# typed while streaming")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    cursor = editor.textCursor()
    cursor.setPosition(editor.toPlainText().index("width * height") + len("width * height"))
    editor.setTextCursor(cursor)
    qtbot.keyClicks(editor, "  # area")
    assert window.controller.mode == "streaming"  # typed during the generation, not after it
    wait_done(qtbot, window)
    window.bar.accept_all_button.click()
    qtbot.waitUntil(lambda: window.controller.mode == "idle", timeout=WAIT_MS)
    expected = "# typed while streaming\n" + WITHOUT_PRINTS.replace(
        "width * height\n", "width * height  # area\n")
    assert editor.toPlainText() == expected
    ast.parse(expected)
