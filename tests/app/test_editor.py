"""CodeEditor: highlighting stays incremental, languages switch, find wraps, the target shows."""

from PySide6.QtGui import QColor, QTextCursor

from pygments.token import Token

from app.core.highlight import DARK, LineLexer, lexer_for
from app.qt.widgets.editor import CodeEditor


def big_python_file(functions: int = 1000) -> str:
    return "".join(f"def f{i}(x):\n    # step {i}\n    return x + {i}\n\n\n" for i in range(functions))


def colour_at(editor: CodeEditor, line: int, column: int) -> str:
    block = editor.document().findBlockByNumber(line)
    for fmt_range in block.layout().formats():
        if fmt_range.start <= column < fmt_range.start + fmt_range.length:
            return fmt_range.format.foreground().color().name()
    return ""


def make_editor(qtbot, text: str = "") -> CodeEditor:
    editor = CodeEditor()
    qtbot.addWidget(editor)
    editor.resize(800, 600)
    editor.setPlainText(text)
    editor.show()
    return editor


def test_keystroke_in_5000_line_file_relexes_only_that_line(qtbot):
    editor = make_editor(qtbot, big_python_file())
    assert editor.blockCount() > 5000
    before = editor.highlighter.blocks_highlighted
    cursor = editor.textCursor()
    cursor.setPosition(editor.document().findBlockByNumber(2500).position())
    editor.setTextCursor(cursor)
    qtbot.keyClicks(editor, "# ")
    assert editor.highlighter.blocks_highlighted - before <= 4  # 2 keys, a block or two each
    assert colour_at(editor, 2500, 4) == DARK.tokens[Token.Comment].color  # now a comment
    assert colour_at(editor, 2505, 0) == DARK.tokens[Token.Keyword].color  # next def untouched


def test_opening_a_triple_quoted_string_recolours_the_following_lines(qtbot):
    editor = make_editor(qtbot, "x = 1\ny = 2\n")
    number_colour = colour_at(editor, 1, 4)
    cursor = editor.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.Start)
    cursor.insertText('"""\n')
    assert colour_at(editor, 2, 4) != number_colour  # "2" is now inside the string
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText('"""\n')
    assert colour_at(editor, 2, 4) == DARK.tokens[Token.String].color


def test_language_from_path_name_or_fallback(qtbot):
    editor = make_editor(qtbot, "fn main() { let x = 1; }\n")
    with qtbot.waitSignal(editor.languageChanged) as signal:
        assert editor.set_language_for("src/main.rs") == "Rust"
    assert signal.args == ["Rust"]
    assert colour_at(editor, 0, 0) == DARK.tokens[Token.Keyword].color
    assert editor.set_language_for("javascript") == "JavaScript"
    assert editor.set_language_for("notes.unknownext") == "Python"
    assert editor.language == "Python"


def test_find_moves_forward_backward_and_wraps(qtbot):
    editor = make_editor(qtbot, "alpha\nbeta\nalpha beta\n")
    assert editor.find("beta")
    assert editor.textCursor().selectionStart() == 6
    assert editor.find("beta")
    assert editor.textCursor().selectionStart() == 17
    assert editor.find("beta")  # wraps to the top
    assert editor.textCursor().selectionStart() == 6
    assert editor.find("alpha", forward=False)
    assert editor.textCursor().selectionStart() == 0
    assert editor.find("alpha", forward=False)  # wraps to the bottom
    assert editor.textCursor().selectionStart() == 11
    assert not editor.find("gamma")
    assert not editor.find("")


def test_target_range_is_tinted_and_cleared(qtbot):
    editor = make_editor(qtbot, "a = 1\nb = 2\nc = 3\n")
    editor.show_target(6, 12)
    tints = [s for s in editor.extraSelections()
             if s.format.background().color() == QColor(DARK.target)]
    assert [(s.cursor.selectionStart(), s.cursor.selectionEnd()) for s in tints] == [(6, 12)]
    editor.clear_target()
    assert editor.target is None
    assert all(s.format.background().color() != QColor(DARK.target) for s in editor.extraSelections())


def test_bad_target_gets_a_clear_error(qtbot):
    editor = make_editor(qtbot, "short\n")
    try:
        editor.show_target(3, 999)
    except ValueError as error:
        assert "outside the document" in str(error)
    else:
        raise AssertionError("expected ValueError")


def test_typing_and_undo_restore_the_text(qtbot):
    editor = make_editor(qtbot, "x = 1\n")
    editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(editor, "y = 2")
    assert editor.toPlainText() == "x = 1\ny = 2"
    editor.undo()
    assert editor.toPlainText() == "x = 1\n"
    editor.redo()
    assert editor.toPlainText() == "x = 1\ny = 2"


def test_line_lexer_carries_state_for_regex_lexers():
    lexer = LineLexer(lexer_for("python"))
    _, state = lexer.lex('s = """start')
    tokens, end = lexer.lex("still inside", state)
    assert state != 0 and end == state
    assert all("String" in str(t) for _, _, t in tokens)


def test_line_numbers_widen_with_a_larger_font(qtbot):
    editor = make_editor(qtbot, big_python_file(30))
    width = editor.viewportMargins().left()
    font = editor.font()
    font.setPointSizeF(font.pointSizeF() * 1.3)  # presentation mode
    editor.setFont(font)
    assert editor.viewportMargins().left() > width
    assert editor._gutter.width() == editor.viewportMargins().left()  # numbers never touch the code


def test_colours_after_an_emoji_land_on_their_own_characters_and_never_split_one(qtbot):
    line = "label = '😀' + name  # done 🎉"
    editor = make_editor(qtbot, line + "\n")
    utf16 = lambda i: len(line[:i].encode("utf-16-le")) // 2  # noqa: E731  (Qt's positions)
    comment = colour_at(editor, 0, utf16(line.index("#")))
    assert comment and colour_at(editor, 0, utf16(len(line)) - 1) == comment  # to the comment's last half-emoji
    assert colour_at(editor, 0, utf16(line.index("+"))) != comment
    assert colour_at(editor, 0, utf16(line.index("#")) - 1) != comment  # the space before it is not the comment's
    halves = {utf16(i) + 1 for i, c in enumerate(line) if ord(c) > 0xFFFF}
    for fmt_range in editor.document().findBlockByNumber(0).layout().formats():
        assert not {fmt_range.start, fmt_range.start + fmt_range.length} & halves  # never between two halves
