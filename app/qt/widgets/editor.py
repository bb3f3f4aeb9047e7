"""CodeEditor: a plain-text code editor with line numbers, Pygments colours, find and a target range.

Signals: ``languageChanged(str)`` with the Pygments language name after ``set_language_for``;
``undoMoved(int, bool)`` after every change with the undo position (steps available to undo) and
whether a new edit cleared the redo stack. Everything else is QPlainTextEdit's own.
Undo and redo keep the view in place: the cursor goes to the change and the view scrolls only
when the change is off screen.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (QColor, QFont, QFontDatabase, QKeyEvent, QKeySequence, QPainter, QPalette,
                           QSyntaxHighlighter, QTextCharFormat, QTextCursor, QTextDocument, QTextFormat)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from app.core.highlight import DARK, ROOT_STATE, LineLexer, Theme, lexer_for, style_for, utf16_offsets

DEFAULT_POINT_SIZE = 14  # large enough to read from the back of a room
UNLEXED = -2  # block state of a line the lazy highlighter has not reached yet
LAZY_MIN_BLOCKS = 5_000  # longer documents are re-coloured lazily (lines)
LEX_BLOCKS_PER_TICK = 250  # lines lexed per event-loop turn while catching up (~10–30 ms)


def monospace_font(point_size: int = DEFAULT_POINT_SIZE) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSize(point_size)
    return font


class PygmentsHighlighter(QSyntaxHighlighter):
    """Colours one block at a time; Qt re-lexes the next block only if this block's end state moved.

    Lazily, for large files: lines from `frontier` on are left plain, and a zero-delay timer moves
    the frontier down a few hundred lines per event-loop turn, so loading never freezes the window.
    """

    def __init__(self, document: QTextDocument, theme: Theme = DARK):
        super().__init__(document)
        self.theme = theme
        self.blocks_highlighted = 0  # blocks lexed since creation (count); shows incrementality
        self.frontier: int | None = None  # first block not lexed yet (None: every block is lexed)
        self._formats: dict = {}
        self._line_lexer = LineLexer(lexer_for("python"))
        self._catch_up = QTimer(self)
        self._catch_up.setInterval(0)
        self._catch_up.timeout.connect(self._advance)

    def hold_plain(self) -> None:
        """Lex nothing for now (a file is loading): every line stays plain until told otherwise."""
        self.frontier = 0

    def highlight_all(self) -> None:
        """Lex every line as Qt asks (a short file)."""
        self._catch_up.stop()
        self.frontier = None

    def highlight_lazily(self) -> None:
        """From now on lex only up to the frontier, which a timer moves to the end."""
        self.frontier = 0
        self._catch_up.start()

    def _advance(self) -> None:
        doc = self.document()
        if self.frontier is None or doc is None:
            self._catch_up.stop()
            return
        start = self.frontier
        self.frontier = start + LEX_BLOCKS_PER_TICK
        if self.frontier >= doc.blockCount():
            self.frontier = None
            self._catch_up.stop()
        block = doc.findBlockByNumber(start)
        if block.isValid():
            # Qt lexes on from this block while each line's end state changes: up to the frontier.
            self.rehighlightBlock(block)

    @property
    def language(self) -> str:
        return self._line_lexer.name

    def set_lexer(self, line_lexer: LineLexer) -> None:
        self._line_lexer = line_lexer
        doc = self.document()
        if doc is not None and doc.blockCount() > LAZY_MIN_BLOCKS:
            self.highlight_lazily()  # a long file: colour it a few hundred lines at a time
        self.rehighlight()

    def _format(self, ttype) -> QTextCharFormat:
        fmt = self._formats.get(ttype)
        if fmt is None:
            style = style_for(self.theme, ttype)
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(style.color))
            if style.bold:
                fmt.setFontWeight(QFont.Weight.Bold)
            fmt.setFontItalic(style.italic)
            self._formats[ttype] = fmt
        return fmt

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        if self.frontier is not None and self.currentBlock().blockNumber() >= self.frontier:
            self.setCurrentBlockState(UNLEXED)
            return
        self.blocks_highlighted += 1
        state = self.previousBlockState()
        tokens, end_state = self._line_lexer.lex(text, ROOT_STATE if state < 0 else state)
        at = utf16_offsets(text)  # Qt counts an emoji as two positions; the lexer as one character
        for start, length, ttype in tokens:
            if length:
                if at is not None:
                    start, length = at[start], at[start + length] - at[start]
                self.setFormat(start, length, self._format(ttype))
        self.setCurrentBlockState(end_state)


class _LineNumberArea(QWidget):
    def __init__(self, editor: CodeEditor):
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event) -> None:  # noqa: N802
        self._editor._paint_gutter(event)


class CodeEditor(QPlainTextEdit):
    """Code editor; see the module docstring for signals."""

    languageChanged = Signal(str)
    undoMoved = Signal(int, bool)

    def __init__(self, parent: QWidget | None = None, theme: Theme = DARK,
                 point_size: int = DEFAULT_POINT_SIZE):
        super().__init__(parent)
        self.theme = theme
        self._target: tuple[int, int] | None = None  # (start, end) chars of the request's range
        self._search_marks: list[QTextCursor] = []  # the find bar's matches, tinted
        self._gutter = _LineNumberArea(self)
        self.highlighter = PygmentsHighlighter(self.document(), theme)
        self.setFont(monospace_font(point_size))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(4 * self.fontMetrics().horizontalAdvance(" "))
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(theme.background))
        palette.setColor(QPalette.ColorRole.Text, QColor(theme.foreground))
        palette.setColor(QPalette.ColorRole.Highlight, QColor(theme.selection))
        palette.setColor(QPalette.ColorRole.HighlightedText, QColor(theme.foreground))
        self.setPalette(palette)
        self.blockCountChanged.connect(self._update_gutter_width)
        self.updateRequest.connect(self._update_gutter)
        self.cursorPositionChanged.connect(self._refresh_extra_selections)
        self._update_gutter_width()
        self._refresh_extra_selections()
        self._undo_seen = (0, 0)  # (undo, redo) steps available after the last change
        self._last_change = -1  # position of the document's latest change
        self.document().contentsChange.connect(self._contents_change)

    # ---- undo / redo in place ------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        elif event.matches(QKeySequence.StandardKey.Redo):
            self.redo()
        else:
            super().keyPressEvent(event)

    def undo(self) -> None:  # noqa: D102 (QPlainTextEdit's slot, kept in place)
        self._in_place(super().undo)

    def redo(self) -> None:  # noqa: D102
        self._in_place(super().redo)

    def _in_place(self, step) -> None:
        bar = self.verticalScrollBar()
        top, hbar = bar.value(), self.horizontalScrollBar().value()
        self._last_change = -1
        step()
        if self._last_change < 0:
            return  # nothing to undo
        cursor = self.textCursor()
        cursor.setPosition(min(self._last_change, self.document().characterCount() - 1))
        self.setTextCursor(cursor)
        bar.setValue(top)
        self.horizontalScrollBar().setValue(hbar)
        if not self.viewport().rect().contains(self.cursorRect()):
            self.centerCursor()

    def _contents_change(self, position: int, _removed: int, _added: int) -> None:
        self._last_change = position
        doc = self.document()
        undo, redo = doc.availableUndoSteps(), doc.availableRedoSteps()
        last_undo, last_redo = self._undo_seen
        self._undo_seen = (undo, redo)
        if (undo, redo) != (last_undo, last_redo):
            self.undoMoved.emit(undo, redo == 0 and last_redo > 0 and undo >= last_undo)

    # ---- language ---------------------------------------------------------------------------
    @property
    def language(self) -> str:
        return self.highlighter.language

    def set_language_for(self, path_or_name: str | None) -> str:
        """Highlight as the language of a file path/name or a Pygments language name (Python if unknown)."""
        line_lexer = LineLexer(lexer_for(path_or_name))
        self.highlighter.set_lexer(line_lexer)
        self.languageChanged.emit(line_lexer.name)
        return line_lexer.name

    # ---- find ---------------------------------------------------------------------------------
    def find(self, text: str, forward: bool = True, case_sensitive: bool = False) -> bool:
        """Select the next (or previous) occurrence of ``text``, wrapping around; False if none."""
        if not text:
            return False
        flags = QTextDocument.FindFlag(0)
        if not forward:
            flags |= QTextDocument.FindFlag.FindBackward
        if case_sensitive:
            flags |= QTextDocument.FindFlag.FindCaseSensitively
        if super().find(text, flags):
            return True
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.Start if forward
                            else QTextCursor.MoveOperation.End)
        found = self.document().find(text, cursor, flags)
        if found.isNull():
            return False
        self.setTextCursor(found)
        return True

    def set_search_marks(self, matches: list[QTextCursor]) -> None:
        """Tint every match of the find bar's text (an empty list clears them)."""
        self._search_marks = list(matches)
        self._refresh_extra_selections()

    def go_to(self, line: int, column: int = 1) -> None:
        """Put the cursor at 1-based ``line`` and character ``column`` (both must exist) and show it."""
        block = self.document().findBlockByNumber(line - 1)
        if not block.isValid():
            raise ValueError(f"line {line} is outside the document (1..{self.blockCount()})")
        before = block.text()[:max(0, column - 1)]
        cursor = QTextCursor(block)
        cursor.setPosition(block.position() + len(before.encode("utf-16-le")) // 2)  # Qt counts UTF-16
        self.setTextCursor(cursor)
        self.centerCursor()

    # ---- target range -------------------------------------------------------------------------
    def show_target(self, start: int, end: int) -> None:
        """Tint characters [start, end) as the range a running request will edit."""
        size = self.document().characterCount() - 1
        if not (isinstance(start, int) and isinstance(end, int)) or not 0 <= start <= end <= size:
            raise ValueError(f"target [{start}, {end}) is outside the document (0..{size})")
        self._target = (start, end)
        self._refresh_extra_selections()
        self._gutter.update()

    def clear_target(self) -> None:
        self._target = None
        self._refresh_extra_selections()
        self._gutter.update()

    @property
    def target(self) -> tuple[int, int] | None:
        return self._target

    def _refresh_extra_selections(self) -> None:
        selections = []
        current = QTextEdit.ExtraSelection()
        current.format.setBackground(QColor(self.theme.current_line))
        current.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        current.cursor = self.textCursor()
        current.cursor.clearSelection()
        selections.append(current)
        for match in self._search_marks:
            mark = QTextEdit.ExtraSelection()
            mark.format.setBackground(QColor(self.theme.search_match))
            mark.cursor = match
            selections.append(mark)
        if self._target is not None:
            target = QTextEdit.ExtraSelection()
            target.format.setBackground(QColor(self.theme.target))
            target.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            target.cursor = QTextCursor(self.document())
            target.cursor.setPosition(self._target[0])
            target.cursor.setPosition(self._target[1], QTextCursor.MoveMode.KeepAnchor)
            selections.append(target)
        self.setExtraSelections(selections)

    # ---- gutter ---------------------------------------------------------------------------------
    def gutter_width(self) -> int:
        digits = max(3, len(str(self.blockCount())))
        return 16 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_gutter_width(self, _count: int = 0) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)
        contents = self.contentsRect()
        self._gutter.setGeometry(QRect(contents.left(), contents.top(), self.gutter_width(),
                                       contents.height()))

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presentation mode: wider line numbers
            self._update_gutter_width()

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        contents = self.contentsRect()
        self._gutter.setGeometry(QRect(contents.left(), contents.top(), self.gutter_width(),
                                       contents.height()))

    def _paint_gutter(self, event) -> None:
        painter = QPainter(self._gutter)
        painter.fillRect(event.rect(), QColor(self.theme.gutter_background))
        painter.setFont(self.font())
        target_lines = None
        if self._target is not None:
            doc = self.document()
            target_lines = (doc.findBlock(self._target[0]).blockNumber(),
                            doc.findBlock(max(self._target[0], self._target[1] - 1)).blockNumber())
        current = self.textCursor().blockNumber()
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        width = self._gutter.width()
        while block.isValid() and top <= event.rect().bottom():
            number = block.blockNumber()
            if block.isVisible() and top + height >= event.rect().top():
                if target_lines and target_lines[0] <= number <= target_lines[1]:
                    painter.fillRect(0, top, 4, height, QColor(self.theme.target_bar))
                colour = self.theme.foreground if number == current else self.theme.gutter_foreground
                painter.setPen(QColor(colour))
                painter.drawText(0, top, width - 8, height, Qt.AlignmentFlag.AlignRight,
                                 str(number + 1))
            top += round(self.blockBoundingRect(block).height())
            block = block.next()
        painter.end()
