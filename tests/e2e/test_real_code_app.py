"""The window on code nobody in this project wrote, with the bundled edit model in a real engine.

Methods of a standard-library class, a file in French, Japanese and emoji, a 145-line method, an
instruction outside the model's skills, an edit that breaks the file, a target too long for the
context: each driven through the real widgets, as a user meets it.
"""

from __future__ import annotations

import ast
import re
import shlex
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QMessageBox

from app.qt.assembly import assemble
from engine.model.modelspec import default_model_dir

WAIT_MS = 60_000  # waits end as soon as their condition holds
DATA = Path(__file__).parent / "data"


@pytest.fixture
def win(qtbot, run_async):
    """The main window on a fresh engine child process running the bundled edit model."""
    parts = assemble(model_dir=str(default_model_dir()))
    window, link = parts.window, parts.link
    qtbot.addWidget(window)
    window.show()
    run_async(link.start(), timeout_ms=WAIT_MS)
    qtbot.waitUntil(lambda: window.controller.engine.client is not None and window.controller.engine.client.connected,
                    timeout=WAIT_MS)
    yield window
    window.stop_timers()
    run_async(parts.shutdown())


def open_file(qtbot, win, path: Path) -> str:
    assert win.open_path(str(path))
    qtbot.waitUntil(lambda: not win.files.loading and win.controller.engine.opened, timeout=WAIT_MS)
    return win.document_text()


def put_cursor(win, offset: int) -> None:
    cursor = win.editor.textCursor()
    cursor.setPosition(win.files.to_qt(offset))
    win.editor.setTextCursor(cursor)


def select(win, start: int, end: int) -> None:
    cursor = win.editor.textCursor()
    cursor.setPosition(win.files.to_qt(start))
    cursor.setPosition(win.files.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
    win.editor.setTextCursor(cursor)


def send(qtbot, win, instruction: str) -> None:
    qtbot.keyClick(win, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(win.bar.field, instruction)
    qtbot.keyClick(win.bar.field, Qt.Key.Key_Return)


def wait_done(qtbot, win) -> None:
    def settled():
        run = win.controller.run
        return run is not None and run.finished and win.controller.mode != "streaming"
    try:
        qtbot.waitUntil(settled, timeout=WAIT_MS)
    except Exception:
        raise AssertionError(f"not done: {win.controller.mode} · {win.status_label.text()}") from None


def hunk_lines(win) -> list[int]:
    """The file line each final hunk's header names ("hunk 2 · line 16 · −1 +1")."""
    lines = []
    for row in win.diff_view.rows():
        if row.kind == "header" and row.final:
            lines.append(int(re.search(r"line (\d+)", win.diff_view.header_label(row)).group(1)))
    return lines


def accept_all(qtbot, win) -> None:
    win.diff_view.setFocus()
    qtbot.keyClick(win.diff_view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def rename(source: str, old: str, new: str) -> str:
    return re.sub(rf"\b{re.escape(old)}\b", new, source)


def test_the_cursor_in_a_method_of_textwrap_targets_that_method_and_renames_in_it(qtbot, win, tmp_path):
    path = tmp_path / "textwrap.py"
    path.write_bytes(Path(textwrap.__file__).read_bytes())  # read at test time: code we did not write
    text = open_file(qtbot, win, path)
    method = text.index("    def _fix_sentence_endings(self, chunks):")
    end = text.index("    def _handle_long_word")
    put_cursor(win, text.index("patsearch(chunks[i])", method) + 3)  # on the name, mid-method
    qtbot.mouseClick(win.bar.quick_buttons[0], Qt.MouseButton.LeftButton)  # Rename
    assert win.bar.field.text() == "rename variable patsearch to "
    assert win.bar.field.hasFocus() and win.bar.field.cursorPosition() == len(win.bar.field.text())
    qtbot.keyClicks(win.bar.field, "search_end")
    qtbot.keyClick(win.bar.field, Qt.Key.Key_Return)
    wait_done(qtbot, win)
    run = win.controller.run
    assert run.target.kind == "function" and "_fix_sentence_endings" in run.target.label
    assert text[run.target.start:run.target.end] == text[method:end].rstrip("\n") + "\n"
    assert win.controller.mode == "reviewing" and not run.unparsable
    accept_all(qtbot, win)
    qtbot.waitUntil(lambda: win.controller.mode == "idle", timeout=WAIT_MS)
    expected = text[:method] + rename(text[method:end], "patsearch", "search_end") + text[end:]
    assert win.document_text() == expected
    ast.parse(win.document_text())
    assert win.editor.hasFocus()  # the last decision hands the keys back to the editor


def test_a_file_in_french_japanese_and_emoji_round_trips_byte_exact_with_right_line_numbers(qtbot, win, tmp_path):
    path = tmp_path / "menu.py"
    original = (DATA / "unicode_menu.py").read_bytes()
    path.write_bytes(original)
    text = open_file(qtbot, win, path)
    assert win.document_text() == original.decode("utf-8")
    describe = text.index("def describe(plat)")
    put_cursor(win, text.index("plat", describe) + 1)
    qtbot.mouseClick(win.bar.quick_buttons[0], Qt.MouseButton.LeftButton)
    assert win.bar.field.text() == "rename variable plat to "
    qtbot.keyClicks(win.bar.field, "item")
    qtbot.keyClick(win.bar.field, Qt.Key.Key_Return)
    wait_done(qtbot, win)
    # The def line, then the return line after the 🎉 (outside the BMP) comment: the editor's lines.
    editor_line = lambda needle: text[:text.index(needle, describe)].count("\n") + 1  # noqa: E731
    assert editor_line("def describe") == 14 and editor_line("return f") == 16
    assert hunk_lines(win) == [14, 16]
    accept_all(qtbot, win)
    qtbot.waitUntil(lambda: win.controller.mode == "idle", timeout=WAIT_MS)
    assert win.save()
    expected = original[:original.index(b"def describe")] + rename(
        original[original.index(b"def describe"):].decode("utf-8"), "plat", "item").encode("utf-8")
    assert path.read_bytes() == expected


def test_a_145_line_method_of_shlex_is_edited_in_windows_not_refused(qtbot, win, tmp_path):
    path = tmp_path / "shlex.py"
    path.write_bytes(Path(shlex.__file__).read_bytes())
    text = open_file(qtbot, win, path)
    # Opened with the cursor at the top: the whole file, measured by the engine (not the estimate).
    qtbot.waitUntil(lambda: win.bar.context_meter.property("overflow") is False, timeout=WAIT_MS)
    method = text.index("    def read_token(self):")
    end = text.index("\n\n", text.index("        return result\n", method)) + 1
    assert text.count("\n", method, end) > 100
    put_cursor(win, text.index("quoted = False", method))
    # The meter says how the engine will take it: in windows where the context is too short, never refused.
    meter = win.bar.context_meter
    qtbot.waitUntil(lambda: "(on Enter)" in win.gauges.target_label.text() and "read_token" in
                    win.gauges.target_label.text() and meter.property("overflow") is False, timeout=WAIT_MS)
    windowed = "windows" in meter.format()
    assert windowed or win.controller.engine.context_length >= 4096  # 1,500 tokens each way fit a long context
    send(qtbot, win, "add a docstring")
    wait_done(qtbot, win)
    run = win.controller.run
    assert "read_token" in run.target.label, win.status_label.text()
    assert ((run.stats.windows or 0) > 1) == windowed
    assert "Too long" not in win.status_label.text() and not win.diff_view.notice.isVisible()
    assert meter.property("overflow") is False  # Enter and the end of the edit leave it as measured, never "too long"
    assert not windowed or f"{run.stats.windows} windows" in meter.format()
    output = win.controller.diff.output_text
    lines, original = output.splitlines(), text[method:end].splitlines()
    assert lines[0] == original[0] and lines[1].lstrip().startswith(('"""', "'''"))
    assert lines[-len(original) + 1:] == original[1:]  # every other line kept, to the last
    accept_all(qtbot, win)
    qtbot.waitUntil(lambda: win.controller.mode == "idle", timeout=WAIT_MS)
    ast.parse(win.document_text())


def test_an_instruction_outside_the_skills_says_so_names_them_and_keeps_the_instruction(qtbot, win):
    source = "def area(radius):\n    return 3.14159 * radius ** 2\n"
    win.editor.setPlainText(source)
    qtbot.waitUntil(lambda: win.controller.engine.in_sync,
                    timeout=WAIT_MS)
    assert [b.text() for b in win.bar.quick_buttons] == ["Rename", "Docstring", "No prints", "f-strings"]
    put_cursor(win, source.index("radius **"))
    send(qtbot, win, "add type hints")
    wait_done(qtbot, win)
    notice = win.diff_view.notice
    assert notice.isVisible() and notice.kind == "out_of_scope"
    said = notice.label.text()
    for skill in ("rename variable", "add a docstring", "remove print statements", "convert to f-strings"):
        assert skill in said
    assert "larger model" in said and "endpoint" in said.lower()
    assert notice.action_button.isVisible() and notice.action_button.text() == "Choose a model…"
    assert "Not edited" in win.status_label.text() and "Done" not in win.status_label.text()
    assert win.bar.field.text() == "add type hints"  # kept, to send again to a larger model
    assert win.editor.toPlainText() == source
    qtbot.mouseClick(notice.action_button, Qt.MouseButton.LeftButton)  # opens the model picker
    qtbot.waitUntil(lambda: win.toolbar.model_menu.isVisible(), timeout=WAIT_MS)
    win.toolbar.model_menu.close()


def test_a_skill_that_finds_nothing_to_change_says_so_instead_of_a_plain_done(qtbot, win):
    source = "def area(radius):\n    return 3.14159 * radius ** 2\n"  # nothing to turn into an f-string
    win.editor.setPlainText(source)
    qtbot.waitUntil(lambda: win.controller.engine.in_sync, timeout=WAIT_MS)
    put_cursor(win, source.index("radius **"))
    send(qtbot, win, "convert to f-strings")
    wait_done(qtbot, win)
    notice = win.diff_view.notice
    qtbot.waitUntil(lambda: notice.isVisible(), timeout=WAIT_MS)
    assert notice.kind == "nothing_to_change"  # the engine knows the rule has nothing to do: no model call
    assert "Nothing to change for 'convert to f-strings'" in notice.label.text()
    assert "no `%` or `.format()`" in notice.label.text()
    assert not notice.action_button.isVisible()  # a larger model would not help
    assert "nothing to change" in win.status_label.text()
    assert win.bar.field.text() == "convert to f-strings"  # kept, to send again
    assert win.editor.toPlainText() == source


def test_an_edit_that_does_not_parse_is_marked_and_accept_all_asks_first(qtbot, win):
    source = ("def report(items, verbose):\n    total = 0\n    for item in items:\n"
              "        total += item\n    return total\n")
    win.editor.setPlainText(source)
    put_cursor(win, source.index("total"))
    send(qtbot, win, "rename variable total to class")  # a keyword: the faithful edit cannot parse
    wait_done(qtbot, win)
    run = win.controller.run
    assert run.unparsable and win.controller.mode == "reviewing"
    notice = win.diff_view.notice
    assert notice.isVisible() and notice.kind == "unparsable" and "does not parse" in notice.label.text()
    assert "line 2" in notice.label.text()  # `class = 0`: the first line that cannot parse
    assert win.diff_view._painter.problem_line == 1  # marked in the diff (output line 2)
    assert any("does not parse" in win.diff_view.header_label(r) for r in win.diff_view.rows()
               if r.kind == "header")
    assert "does not parse" in win.status_label.text()
    accept_all(qtbot, win)
    box = win.edit_view.confirm_box
    qtbot.waitUntil(box.isVisible, timeout=WAIT_MS)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert win.editor.toPlainText() == source  # nothing applied
    assert win.controller.unresolved_final()
    qtbot.mouseClick(win.bar.accept_all_button, Qt.MouseButton.LeftButton)  # the button asks too
    box = win.edit_view.confirm_box
    qtbot.waitUntil(box.isVisible, timeout=WAIT_MS)
    next(b for b in box.buttons() if b.text() == "Accept anyway").click()
    qtbot.waitUntil(lambda: "class = 0" in win.editor.toPlainText(), timeout=WAIT_MS)
    assert win.controller.mode == "idle"


def test_a_target_beyond_the_context_names_the_limit_keeps_the_instruction_and_narrows(qtbot, win):
    small = "def scale(values, factor):\n    result = []\n    for v in values:\n" \
            "        result.append(v * factor)\n    return result\n"
    # A statement the rename must touch (an untouched one would be passed on), longer than any window.
    table = "def table(result):\n    return [\n" + "".join(f"        result * {i} + {i % 13},\n"
                                                         for i in range(2500)) + "    ]\n"
    source = small + "\n\n" + table
    win.editor.setPlainText(source)
    qtbot.waitUntil(lambda: win.controller.engine.in_sync,
                    timeout=WAIT_MS)
    select(win, source.index("result = []"), len(source))  # from inside `scale` to the end
    send(qtbot, win, "rename variable result to out")
    notice = win.diff_view.notice
    qtbot.waitUntil(lambda: notice.isVisible(), timeout=WAIT_MS)
    context = win.controller.engine.context_length
    said = notice.label.text()
    assert notice.kind == "overflow" and (str(context) in said or f"{context:,}" in said)  # names the limit
    assert notice.action_button.text() == "Narrow to function scale"
    assert win.bar.field.text() == "rename variable result to out"
    refused = win.controller.run  # the engine refused it before any token: it checks the context itself
    assert refused.output == "" and refused.stats.error.code == "context_overflow"
    qtbot.mouseClick(notice.action_button, Qt.MouseButton.LeftButton)
    assert win.selection() == (0, len(small))
    assert not notice.isVisible() and win.bar.field.hasFocus()
    qtbot.keyClick(win.bar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.controller.run is not refused, timeout=WAIT_MS)
    wait_done(qtbot, win)
    assert win.controller.diff.output_text == rename(small, "result", "out")


def test_a_docstring_asked_of_a_whole_module_says_it_needs_a_function_and_changes_nothing(qtbot, win):
    text = open_file(qtbot, win, Path(textwrap.__file__))  # starts with the module's docstring
    select(win, 0, len(text))
    send(qtbot, win, "add a docstring")
    wait_done(qtbot, win)
    notice = win.diff_view.notice
    assert notice.isVisible() and notice.kind == "needs_function"
    said = notice.label.text()
    assert "one function" in said and "Text wrapping and filling" in said and "cursor in a function" in said
    assert not notice.action_button.isVisible()
    assert "Not edited" in win.status_label.text() and "Done" not in win.status_label.text()
    assert win.bar.field.text() == "add a docstring"
    assert win.document_text() == text
