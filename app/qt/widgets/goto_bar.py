"""GotoLineBar: go to a line (Ctrl+G), as a bar above the editor, the way VS Code's "Go to Line" reads.

The bar says where the cursor is and what it will do as you type ("Go to line 120, column 8");
Enter goes there and closes the bar. A line or column past the end goes to the nearest place
that exists and says so; text that is no place at all is refused in the bar, which stays open.
Esc closes the bar without moving, and never reaches the window's Esc (stop the edit stream).

Signals: ``message(str, str)``: a line for the status bar and its level ("info" / "warn");
``closed()`` once the bar hides.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from app.core.edit.goto import GotoPlace, parse_goto
from app.qt.widgets.editor import CodeEditor
from app.qt.widgets.find_bar import FindField


class GotoLineBar(QWidget):
    """See the module docstring for what it does and its signals."""

    message = Signal(str, str)
    closed = Signal()

    def __init__(self, editor: CodeEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gotoBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # the style sheet's bar colour
        self.editor = editor
        self.field = FindField(self)  # Esc and Enter stay in the bar
        self.field.setObjectName("gotoField")
        self.hint = QLabel("", self)
        self.hint.setObjectName("gotoHint")
        self.hint.setWordWrap(True)
        # A long hint wraps in the room the editor pane has; it never widens the pane.
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.field.setMinimumWidth(self.field.fontMetrics().horizontalAdvance("0" * 12))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(8)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.hint, 2)
        self.field.textEdited.connect(self._preview)
        self.field.enterPressed.connect(lambda _shift: self.go())
        self.field.escapePressed.connect(self.close_bar)
        self.setVisible(False)

    def open_bar(self) -> None:
        lines = self.editor.blockCount()
        self.field.clear()
        self.field.setPlaceholderText(f"Line (1–{lines:,}) or line:column")
        self._preview("")
        self.setVisible(True)
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def close_bar(self) -> None:
        if not self.isVisible():
            return
        self.setVisible(False)
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self.closed.emit()

    def place(self, text: str) -> GotoPlace:
        """Where ``text`` leads in the editor's document (ValueError: it is no place)."""
        doc = self.editor.document()
        return parse_goto(text, doc.blockCount(), lambda n: len(doc.findBlockByNumber(n - 1).text()))

    def go(self) -> bool:
        """Go where the field says and close; False (the bar stays open, saying why) if it cannot."""
        try:
            place = self.place(self.field.text())
        except ValueError as error:
            self._say(str(error), problem=True)
            self.message.emit(str(error), "warn")
            return False
        self.editor.go_to(place.line, place.column)
        self.close_bar()
        if place.note:
            self.message.emit(place.note, "warn")
        else:
            self.message.emit(f"Line {place.line:,}, column {place.column:,}", "info")
        return True

    def _preview(self, text: str) -> None:
        if not text.strip():
            cursor = self.editor.textCursor()
            self._say(f"Now at line {cursor.blockNumber() + 1:,}, column {cursor.positionInBlock() + 1:,}"
                      " · Enter goes there, Esc closes")
            return
        try:
            place = self.place(text)
        except ValueError as error:
            self._say(str(error), problem=True)
            return
        self._say(place.note or f"Go to line {place.line:,}, column {place.column:,}", problem=bool(place.note))

    def _say(self, text: str, problem: bool = False) -> None:
        self.hint.setText(text)
        self.hint.setProperty("problem", problem)
        self.hint.style().polish(self.hint)
