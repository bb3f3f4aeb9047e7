"""Find and Go to line in the real window on a real engine: the keys, the Edit menu, and Esc.

Esc in the find bar closes the bar and leaves a running edit alone; Esc anywhere else still stops it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.e2e.test_app_e2e import SOURCE, WAIT_MS, load, send, wait_mode

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def streaming(qtbot, window) -> None:
    window.controller.configure(max_tokens=100_000)
    send(qtbot, window, "add type hints")
    qtbot.waitUntil(lambda: window.controller.run is not None and window.controller.run.tokens > 0,
                    timeout=WAIT_MS)


def test_ctrl_f_f3_and_ctrl_g_are_edit_menu_entries_that_work_from_the_keyboard(qtbot, window):
    load(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    shortcuts = {a.text(): a.shortcut().toString() for a in edit_menu.actions()}
    assert shortcuts["Find…"] == "Ctrl+F" and shortcuts["Go to line…"] == "Ctrl+G"
    assert shortcuts["Find next"] == "F3" and shortcuts["Find previous"] == "Shift+F3"

    window.editor.setFocus()
    qtbot.keyClick(window.editor, Qt.Key.Key_F, CTRL)
    assert window.find_bar.isVisible() and window.find_bar.field.hasFocus()
    qtbot.keyClicks(window.find_bar.field, "shape")
    assert window.find_bar.count_label.text() == "1 of 3"
    window.editor.setFocus()
    qtbot.keyClick(window.editor, Qt.Key.Key_F3)  # from the editor too
    assert window.find_bar.count_label.text() == "2 of 3"
    qtbot.keyClick(window.editor, Qt.Key.Key_F3, SHIFT)
    assert window.find_bar.count_label.text() == "1 of 3"
    assert window.editor.textCursor().selectionStart() == SOURCE.index("shape")

    qtbot.keyClick(window.editor, Qt.Key.Key_G, CTRL)  # one bar at a time
    assert window.goto_bar.field.hasFocus() and not window.find_bar.isVisible()
    qtbot.keyClicks(window.goto_bar.field, "99")
    qtbot.keyClick(window.goto_bar.field, Qt.Key.Key_Return)
    assert window.editor.textCursor().blockNumber() == window.editor.blockCount() - 1
    assert "went to line" in window.status_label.text()


def test_esc_in_the_find_bar_closes_it_and_the_edit_keeps_streaming(qtbot, window):
    load(window)
    streaming(qtbot, window)
    window.open_find()
    qtbot.keyClicks(window.find_bar.field, "radius")
    tokens = window.controller.run.tokens
    qtbot.keyClick(window.find_bar.field, Qt.Key.Key_Escape)
    assert not window.find_bar.isVisible()
    qtbot.waitUntil(lambda: window.controller.run.tokens > tokens + 5, timeout=WAIT_MS)  # still streaming
    assert window.controller.mode == "streaming" and not window.controller.run.stopped

    qtbot.keyClick(window.editor, Qt.Key.Key_Escape)  # the bar is closed: Esc stops, as before
    wait_mode(qtbot, window, "stopped")
    assert window.controller.run.stopped


def test_esc_in_the_editor_stops_a_stream_even_with_the_find_bar_open(qtbot, window):
    load(window)
    streaming(qtbot, window)
    window.open_find()
    window.editor.setFocus()
    qtbot.keyClick(window.editor, Qt.Key.Key_Escape)
    wait_mode(qtbot, window, "stopped")
    assert window.find_bar.isVisible()  # a stop, not a close: the next Esc closes it
    qtbot.keyClick(window.editor, Qt.Key.Key_Escape)
    assert not window.find_bar.isVisible()
