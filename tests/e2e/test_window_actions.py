"""Window interactions that need no engine: keys, history, quick actions, files, context, tests."""

from __future__ import annotations

import os
import stat

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app.core.edit.quick_actions import QUICK_ACTIONS
from app.qt.assembly import assemble

WAIT_MS = 30_000


@pytest.fixture
def win(qtbot, qloop):
    window = assemble(with_engine=False).window
    qtbot.addWidget(window)
    window.show()
    yield window
    window.stop_timers()
    window.controller.cancel_tasks()


def test_ctrl_k_focuses_the_instruction_bar(qtbot, win):
    win.editor.setFocus()
    qtbot.keyClick(win, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert win.bar.field.hasFocus()


def test_up_and_down_walk_the_history_without_losing_the_draft(qtbot, win):
    for text in ("add a docstring", "rename x to count"):
        win.controller.history.add(text)
    field = win.bar.field
    qtbot.keyClicks(field, "half typed")
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert field.text() == "rename x to count"
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert field.text() == "add a docstring"
    qtbot.keyClick(field, Qt.Key.Key_Down)
    qtbot.keyClick(field, Qt.Key.Key_Down)
    assert field.text() == "half typed"


def test_quick_actions_fill_the_field_for_the_user_to_edit(qtbot, win):
    # No engine yet: the free-form actions (a model without declared skills takes any instruction).
    assert [b.text() for b in win.bar.quick_buttons] == [a.label for a in QUICK_ACTIONS]
    for button, action in zip(win.bar.quick_buttons[1:], QUICK_ACTIONS[1:]):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert win.bar.field.text() == action.instruction
        assert win.controller.run is None  # filled, not sent
    rename = win.bar.quick_buttons[0]
    qtbot.mouseClick(rename, Qt.MouseButton.LeftButton)
    assert win.bar.field.selectedText() == "old_name"  # nothing at the cursor: type over the placeholder
    win.editor.setPlainText("def tally(items):\n    total = 0\n    return total\n")
    cursor = win.editor.textCursor()
    cursor.setPosition(win.editor.toPlainText().index("total") + 2)
    win.editor.setTextCursor(cursor)
    qtbot.mouseClick(rename, Qt.MouseButton.LeftButton)
    assert win.bar.field.text() == "Rename `total` to `new_name` everywhere in this code"
    assert win.bar.field.selectedText() == "new_name"


def test_an_empty_instruction_is_not_sent(qtbot, win):
    qtbot.keyClick(win.bar.field, Qt.Key.Key_Return)
    assert "Type an instruction" in win.status_label.text()


def test_sending_without_an_engine_says_so(qtbot, win):
    win.editor.setPlainText("x = 1\n")
    win.bar.field.setText("add a comment")
    qtbot.keyClick(win.bar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "No engine" in win.status_label.text(), timeout=WAIT_MS)
    assert win.editor.toPlainText() == "x = 1\n"


def test_a_prompt_that_cannot_fit_is_refused_with_a_clear_message(qtbot, win):
    win.controller.engine.set_context_length(512)
    win.controller.engine.set_engine_starter(None)
    big = "".join(f"value_{i} = compute(value_{i - 1})\n" for i in range(1, 400))
    win.editor.setPlainText(big)
    assert not win.controller.engine.refresh_context("add type hints")
    assert win.bar.context_meter.property("overflow") is True
    assert "512" in win.bar.context_meter.format()


def test_save_is_atomic_keeps_permissions_and_clears_the_dirty_marker(qtbot, win, tmp_path):
    path = tmp_path / "demo.py"
    path.write_text("a = 1\n")
    os.chmod(path, 0o640)
    assert win.open_path(str(path))
    assert win.windowTitle().startswith("demo.py") and not win.isWindowModified()
    win.editor.moveCursor(win.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(win.editor, "b = 2")
    assert win.isWindowModified()
    assert win.save()
    assert path.read_text() == "a = 1\nb = 2"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not win.isWindowModified()
    assert [p.name for p in tmp_path.iterdir()] == ["demo.py"]  # no temporary file left behind


def test_opening_a_binary_or_missing_file_is_a_clear_error_and_keeps_the_text(qtbot, win, tmp_path):
    win.editor.setPlainText("keep me\n")
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x01\x02binary")
    assert not win.open_path(str(blob))
    assert "binary" in win.status_label.text()
    assert not win.open_path(str(tmp_path / "missing.py"))
    assert "Cannot open" in win.status_label.text()
    assert win.editor.toPlainText() == "keep me\n"


def test_run_tests_runs_pytest_only_when_asked_and_shows_the_result(qtbot, win, tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    test_file = tmp_path / "test_calc.py"
    test_file.write_text("from calc import add\n\ndef test_add():\n    assert add(2, 2) == 4\n\n"
                         "def test_wrong():\n    assert add(2, 2) == 5\n")
    win.open_path(str(tmp_path / "calc.py"))
    assert win.tests.last_result is None  # nothing ran on open
    win.tests.ask()  # finds tests next to the file
    qtbot.waitUntil(lambda: win.tests.last_result is not None, timeout=WAIT_MS)
    result = win.tests.last_result
    assert result.returncode == 1 and "1 failed, 1 passed" in result.summary
    assert "1 failed, 1 passed" in win.status_label.text()
    assert win.run_tests_action.isEnabled()


def test_run_tests_says_when_the_editor_holds_changes_the_tests_do_not_see(qtbot, win, tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "test_calc.py").write_text("from calc import add\n\ndef test_add():\n    assert add(2, 2) == 4\n")
    win.open_path(str(tmp_path / "calc.py"))
    qtbot.keyClicks(win.editor, "broken(")  # not saved
    win.tests.ask()
    qtbot.waitUntil(lambda: win.tests.last_result is not None, timeout=WAIT_MS)
    assert win.tests.last_result.passed  # pytest saw the file on disk
    assert "unsaved changes are not in it" in win.status_label.text()


def test_run_tests_without_a_test_file_says_why_it_asks(qtbot, win, tmp_path):
    (tmp_path / "lonely.py").write_text("x = 1\n")
    win.open_path(str(tmp_path / "lonely.py"))
    win.tests.ask()
    assert "No test_lonely.py found" in win.status_label.text()
    for dialog in win.findChildren(QFileDialog):
        dialog.reject()


def test_unsaved_changes_are_never_dropped_silently(qtbot, win, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    qtbot.keyClicks(win.editor, "precious = True")
    opened = []
    box = win.confirm_discard("opening another file", lambda: opened.append(True))
    assert box is not None and box.isVisible() and not opened
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert not opened and win.editor.toPlainText() == "precious = True"
    box = win.confirm_discard("opening another file", lambda: opened.append(True))
    box.button(QMessageBox.StandardButton.Discard).click()
    assert opened == [True]
    # Closing asks too, and Save writes the file before the window goes.
    target = tmp_path / "keep.py"
    win.save_to(str(target))
    qtbot.keyClicks(win.editor, "changed = 1")
    win.close()
    assert win.isVisible()
    box = next(b for b in win.findChildren(QMessageBox, "confirmDiscard") if b.isVisible())
    box.button(QMessageBox.StandardButton.Save).click()
    assert target.read_text() == "precious = Truechanged = 1"
    assert not win.isVisible()


def test_presentation_mode_enlarges_every_text_a_room_reads(qtbot, win):
    def sizes():
        return (win.bar.field.fontInfo().pixelSize(), win.status_label.fontInfo().pixelSize(),
                win.editor.fontInfo().pixelSize(), win.diff_view.row_height(),
                win.gauges.wafer.body_px())

    before = sizes()
    meter = win.bar.context_meter
    win.bar.set_context(1050, 512, True, windows=2)  # a long text, set before the font grows
    win.set_presentation(True)
    qtbot.waitUntil(lambda: all(a > b for a, b in zip(sizes(), before)), timeout=WAIT_MS)
    needed = meter.fontMetrics().horizontalAdvance(meter.text())  # at the larger font: none of it clipped
    win.resize(1600, 1000)  # a projector's screen
    qtbot.waitUntil(lambda: meter.width() >= needed + 20, timeout=WAIT_MS)
    win.set_presentation(False)
    qtbot.waitUntil(lambda: sizes() == before, timeout=WAIT_MS)


def test_a_long_status_message_wraps_instead_of_being_cut_off(qtbot, win):
    win.resize(1200, 800)
    label = win.status_label
    line = label.fontMetrics().lineSpacing()
    win.show_status("Opened demo.py")
    qtbot.waitUntil(lambda: label.lines() == 1 and label.height() < 2 * line)
    notice = ("This instruction is outside what the bundled model was trained for (rename a variable "
              "or function, add a docstring, remove print statements, convert to f-strings); it "
              "returns the code unchanged. Load a larger model for other edits.")
    win.show_status(notice, "warn")
    qtbot.waitUntil(lambda: label.lines() == 2 and label.height() >= 2 * line)
    needed = label.fontMetrics().boundingRect(0, 0, label.contentsRect().width() - 4, 10_000,
                                              int(Qt.TextFlag.TextWordWrap), notice)
    assert needed.height() <= label.contentsRect().height()  # every word on screen


def test_the_menu_bar_has_file_edit_view_help_with_their_keys(qtbot, win):
    titles = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Help"]
    file_menu = win.menuBar().actions()[0].menu()
    entries = {a.text(): a.shortcut().toString() for a in file_menu.actions() if not a.isSeparator()}
    assert entries["Quit"] == "Ctrl+Q" and entries["Save"] == "Ctrl+S" and entries["Open…"] == "Ctrl+O"
    edit_menu = win.menuBar().actions()[1].menu()
    assert any(a.text().startswith("Stop\tEsc") for a in edit_menu.actions())


def test_ctrl_q_quits_and_asks_first_about_unsaved_text(qtbot, win):
    from PySide6.QtWidgets import QMessageBox

    qtbot.keyClicks(win.editor, "unsaved = 1")
    with qtbot.assertNotEmitted(win.closing):
        qtbot.keyClick(win.editor, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert win.isVisible()
    box = next(b for b in win.findChildren(QMessageBox, "confirmDiscard") if b.isVisible())
    with qtbot.waitSignal(win.closing, timeout=WAIT_MS):
        box.button(QMessageBox.StandardButton.Discard).click()
    assert not win.isVisible()


def test_help_lists_the_keyboard_shortcuts(qtbot, win):
    from app.qt.menus import show_shortcuts

    box = show_shortcuts(win)
    assert box.isVisible() and "Ctrl+Q" in box.text() and "Esc" in box.text()
    box.close()


def _reviewing(win, source: str, output: str):
    """A finished edit of the whole document, waiting for review (no engine needed)."""
    from app.core.edit.states import Mode
    from app.core.edit.targeting import choose_target
    from app.core.edit.view import EditRun

    win.editor.setPlainText(source)
    c = win.controller
    target = choose_target(source, 0, len(source))
    c.begin_run(EditRun("r1", "edit", target, source, 0.0))
    assert win.diff_view.diff is c.diff  # the window shows the controller's diff
    assert c.mode == Mode.STREAMING
    c.handle(c.run, {"type": "token", "request": "r1", "index": 0, "text": output, "count": 1, "draft": 0})
    c.handle(c.run, {"type": "done", "request": "r1", "reason": "eos", "stats": {}})
    return c


def test_undo_and_redo_of_an_accept_keep_the_diff_in_step_and_the_view_in_place(qtbot, win):
    source = "".join(f"line_{i} = {i}\n" for i in range(200))
    output = source.replace("line_150 = 150\n", "line_150 = 1500\n")
    c = _reviewing(win, source, output)
    assert c.mode == "reviewing"
    win.editor.setFocus()
    assert c.accept_all() == 1 and c.mode == "idle"
    assert win.editor.toPlainText() == output
    bar = win.editor.verticalScrollBar()
    win.editor.centerCursor()
    cursor = win.editor.textCursor()
    cursor.setPosition(output.index("line_150"))
    win.editor.setTextCursor(cursor)
    win.editor.centerCursor()
    top = bar.value()
    assert top > 0
    qtbot.keyClick(win.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.editor.toPlainText() == source
    assert bar.value() == top  # the change is on screen: the view does not jump
    assert c.unresolved_final() == [0] and c.mode == "reviewing"
    assert win.diff_view.hunk_state(0) is None  # undecided again in the pane
    qtbot.keyClick(win.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert win.editor.toPlainText() == output
    assert c.unresolved_final() == [] and c.mode == "idle"
    assert win.diff_view.hunk_state(0) == "accepted"


def test_a_new_edit_after_undoing_an_accept_forgets_it(qtbot, win):
    source = "a = 1\nb = 2\n"
    c = _reviewing(win, source, "a = 10\nb = 2\n")
    assert c.accept_all() == 1
    win.editor.setFocus()
    qtbot.keyClick(win.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert c.unresolved_final() == [0]
    cursor = win.editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    win.editor.setTextCursor(cursor)
    qtbot.keyClicks(win.editor, "c = 3")
    assert c.unresolved_final() == [0] and not c.run.accept_steps  # can never be redone now


def test_focus_goes_to_the_diff_when_a_stream_ends_and_back_to_the_editor_after_the_last_change(qtbot, win):
    win.bar.field.setFocus()
    c = _reviewing(win, "a = 1\nb = 2\n", "a = 10\nb = 2\n")
    assert c.mode == "reviewing"
    qtbot.waitUntil(win.diff_view.hasFocus)
    qtbot.keyClick(win.diff_view, Qt.Key.Key_A)  # accepts: not a letter typed into the bar
    assert win.bar.field.text() == "" and win.editor.toPlainText() == "a = 10\nb = 2\n"
    qtbot.waitUntil(win.editor.hasFocus)
    qtbot.keyClick(win.diff_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # from the diff too
    assert win.editor.toPlainText() == "a = 1\nb = 2\n" and c.mode == "reviewing"


def test_the_target_follows_the_cursor_moved_by_keyboard_and_resets_on_another_file(qtbot, win, tmp_path):
    first = tmp_path / "first.py"
    first.write_text("def alpha():\n    return 1\n\n\ndef beta():\n    return 2\n")
    win.open_path(str(first))
    qtbot.waitUntil(lambda: win.editor.toPlainText().startswith("def alpha"))
    win.editor.setFocus()
    qtbot.keyClick(win.editor, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: "alpha" in win.gauges.target_label.text(), timeout=WAIT_MS)
    for _ in range(3):
        qtbot.keyClick(win.editor, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: "beta" in win.gauges.target_label.text(), timeout=WAIT_MS)
    second = tmp_path / "second.py"
    second.write_text("x = 1\n")
    win.open_path(str(second))
    qtbot.waitUntil(lambda: win.editor.toPlainText() == "x = 1\n")
    assert "beta" not in win.gauges.target_label.text()


def test_a_refused_instruction_is_kept_in_the_bar(qtbot, win):
    win.keep_instruction("add type hints")
    assert win.bar.field.text() == "add type hints"
    win.bar.field.setText("something newer")
    win.keep_instruction("add type hints")
    assert win.bar.field.text() == "something newer"  # what the user typed since wins


def test_file_dialogs_show_sizes_and_types_whole(qtbot, win):
    from PySide6.QtWidgets import QHeaderView, QTreeView

    from app.qt.dialogs.files import file_dialog

    dialog = file_dialog(win, "Open a file")
    header = dialog.findChild(QTreeView, "treeView").header()
    assert all(header.sectionResizeMode(c) == QHeaderView.ResizeMode.ResizeToContents
               for c in range(1, header.count()))
    assert dialog.width() >= 900
