"""The find bar (Ctrl+F) and the go-to-line bar (Ctrl+G) above a real editor, driven by keys."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.qt.widgets.editor import CodeEditor
from app.qt.widgets.find_bar import FindBar
from app.qt.widgets.goto_bar import GotoLineBar

TEXT = "".join(f"def wrap{i}(text):\n    return Wrap(text)  # wrap it\n\n" for i in range(4))
SHIFT = Qt.KeyboardModifier.ShiftModifier


def pane(qtbot, text: str = TEXT):
    widget = QWidget()
    editor = CodeEditor(widget)
    find, goto = FindBar(editor, widget), GotoLineBar(editor, widget)
    layout = QVBoxLayout(widget)
    for child in (find, goto, editor):
        layout.addWidget(child)
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    editor.setPlainText(text)
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)  # focus moves only in the active window
    editor.setFocus()
    return widget, editor, find, goto  # the test holds the pane: nothing else keeps it alive


def selected(editor) -> tuple[int, int]:
    cursor = editor.textCursor()
    return cursor.selectionStart(), cursor.selectionEnd()


def test_typing_finds_as_you_type_and_counts_the_matches(qtbot):
    _pane, editor, find, _ = pane(qtbot)
    find.open_bar()
    assert find.isVisible() and find.field.hasFocus()
    qtbot.keyClicks(find.field, "wrap")
    assert len(find.matches()) == 12  # wrap0..3, Wrap ×4, "wrap it" ×4: case ignored
    assert selected(editor) == find.matches()[0]
    assert find.count_label.text() == "1 of 12"
    assert editor.textCursor().selectedText() == "wrap"


def test_enter_and_shift_enter_walk_the_matches_and_wrap_around(qtbot):
    _pane, editor, find, _ = pane(qtbot)
    find.open_bar()
    qtbot.keyClicks(find.field, "wrap")
    qtbot.keyClick(find.field, Qt.Key.Key_Return)
    assert find.count_label.text() == "2 of 12"
    qtbot.keyClick(find.field, Qt.Key.Key_Return, SHIFT)
    qtbot.keyClick(find.field, Qt.Key.Key_Return, SHIFT)
    assert find.count_label.text() == "12 of 12"  # wrapped back to the last one
    assert selected(editor) == find.matches()[-1]
    qtbot.keyClick(find.field, Qt.Key.Key_Return)
    assert find.count_label.text() == "1 of 12"


def test_the_case_toggle_narrows_the_matches(qtbot):
    _pane, editor, find, _ = pane(qtbot)
    find.open_bar()
    qtbot.keyClicks(find.field, "Wrap")
    assert len(find.matches()) == 12
    find.case_button.click()
    assert len(find.matches()) == 4
    assert editor.textCursor().selectedText() == "Wrap"
    assert find.count_label.text() == "1 of 4"


def test_no_match_says_no_results(qtbot):
    _pane, _, find, _ = pane(qtbot)
    find.open_bar()
    qtbot.keyClicks(find.field, "zebra")
    assert find.count_label.text() == "No results"
    assert find.count_label.property("none") is True


def test_esc_closes_the_bar_and_gives_the_editor_its_focus_and_marks_go(qtbot):
    _pane, editor, find, _ = pane(qtbot)
    find.open_bar()
    qtbot.keyClicks(find.field, "wrap")
    assert len(editor.extraSelections()) > 12  # the current line and the 12 tinted matches
    with qtbot.waitSignal(find.closed):
        qtbot.keyClick(find.field, Qt.Key.Key_Escape)
    assert not find.isVisible()
    assert editor.hasFocus()
    assert len(editor.extraSelections()) == 1  # only the current line again
    assert editor.textCursor().selectedText() == "wrap"  # the match found stays selected


def test_opening_with_a_selection_searches_for_it(qtbot):
    _pane, editor, find, _ = pane(qtbot)
    start = TEXT.index("return")
    cursor = editor.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(start + len("return"), QTextCursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)
    find.open_bar()
    assert find.field.text() == "return"
    assert find.field.selectedText() == "return"  # typing replaces it
    assert find.count_label.text() == "1 of 4"


def test_the_count_follows_edits_to_the_document(qtbot):
    _pane, editor, find, _ = pane(qtbot)
    find.open_bar()
    qtbot.keyClicks(find.field, "return")
    cursor = QTextCursor(editor.document())
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText("return 5\n")
    qtbot.waitUntil(lambda: len(find.matches()) == 5)


def test_go_to_line_and_column(qtbot):
    _pane, editor, _, goto = pane(qtbot)
    goto.open_bar()
    assert goto.field.hasFocus()
    assert "Now at line 1, column 1" in goto.hint.text()
    qtbot.keyClicks(goto.field, "5:12")
    assert goto.hint.text() == "Go to line 5, column 12"
    with qtbot.waitSignal(goto.message) as said:
        qtbot.keyClick(goto.field, Qt.Key.Key_Return)
    assert said.args == ["Line 5, column 12", "info"]
    cursor = editor.textCursor()
    assert (cursor.blockNumber(), cursor.positionInBlock()) == (4, 11)
    assert not goto.isVisible() and editor.hasFocus()


def test_go_to_a_line_past_the_end_clamps_and_says_so(qtbot):
    _pane, editor, _, goto = pane(qtbot)
    goto.open_bar()
    qtbot.keyClicks(goto.field, "900:4")
    assert "outside the file" in goto.hint.text() and "column" not in goto.hint.text()
    assert goto.minimumSizeHint().width() < 300  # a long hint wraps; it never widens the editor pane
    with qtbot.waitSignal(goto.message) as said:
        qtbot.keyClick(goto.field, Qt.Key.Key_Return)
    assert said.args[1] == "warn" and "went to line 13" in said.args[0]
    assert editor.textCursor().blockNumber() == editor.blockCount() - 1


def test_go_to_refuses_text_that_is_no_line_and_stays_open(qtbot):
    _pane, editor, _, goto = pane(qtbot)
    goto.open_bar()
    qtbot.keyClicks(goto.field, "ten")
    with qtbot.waitSignal(goto.message) as said:
        qtbot.keyClick(goto.field, Qt.Key.Key_Return)
    assert said.args[1] == "warn" and "not a line number" in said.args[0]
    assert goto.isVisible() and goto.hint.property("problem") is True
    assert editor.textCursor().position() == 0
    qtbot.keyClick(goto.field, Qt.Key.Key_Escape)
    assert not goto.isVisible() and editor.textCursor().position() == 0


def test_go_to_counts_columns_in_characters_on_a_line_with_an_emoji(qtbot):
    _pane, editor, _, goto = pane(qtbot, "x = '🙂🙂'  # smile\n")
    goto.open_bar()
    qtbot.keyClicks(goto.field, "1:9")
    qtbot.keyClick(goto.field, Qt.Key.Key_Return)
    cursor = editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.KeepAnchor, 2)
    assert cursor.selectedText() == "  "  # after the closing quote, before the comment
