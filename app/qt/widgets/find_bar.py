"""FindBar: find in the editor, as a bar above it (Ctrl+F), the way VS Code and Zed find.

Typing searches from the cursor as you type; Enter / F3 go to the next match and Shift+Enter /
Shift+F3 to the previous one, wrapping around; the bar counts the matches ("3 of 12") and tints
them all in the editor; "Aa" (Alt+C) matches case. Esc in the bar closes it and gives the editor
back its focus: the key never reaches the window's Esc (stop the edit stream).

Signals: ``closed()`` once the bar hides.
"""

from __future__ import annotations

import bisect
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QTextCursor, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from app.qt.widgets.editor import CodeEditor

MAX_COUNTED = 10_000  # matches counted at most; more read "10,000+" (a count past that helps nobody)
MAX_TINTED = 2_000  # matches tinted at most (each is an extra selection the editor repaints)
RECOUNT_DELAY_MS = 150  # after the document changes under an open bar, count again


class FindField(QLineEdit):
    """The search text. Esc and Enter are its own keys here, whatever the window binds them to."""

    escapePressed = Signal()
    enterPressed = Signal(bool)  # True with Shift: the previous match

    _OWN_KEYS = (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter)

    def event(self, event: QEvent) -> bool:
        # The window binds Esc (stop the stream) as a shortcut, which Qt tries before any widget's
        # keyPressEvent; accepting the override keeps the key for the bar.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in self._OWN_KEYS:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.escapePressed.emit()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.enterPressed.emit(bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        else:
            super().keyPressEvent(event)


class FindBar(QWidget):
    """See the module docstring for what it does and its signal."""

    closed = Signal()

    def __init__(self, editor: CodeEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # the style sheet's bar colour
        self.editor = editor
        self.field = FindField(self)
        self.field.setObjectName("findField")
        self.field.setPlaceholderText("Find")
        self.field.setClearButtonEnabled(True)
        self.field.setMinimumWidth(self.field.fontMetrics().horizontalAdvance("0" * 14))
        self.count_label = QLabel("", self)
        self.count_label.setObjectName("findCount")
        self.case_button = self._button("Aa", "Match case (Alt+C)", checkable=True)
        self.case_button.setShortcut(QKeySequence("Alt+C"))
        self.previous_button = self._button("↑", "Previous match (Shift+Enter, Shift+F3)")
        self.next_button = self._button("↓", "Next match (Enter, F3)")
        self.close_button = self._button("✕", "Close (Esc)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.count_label)
        for button in (self.case_button, self.previous_button, self.next_button, self.close_button):
            layout.addWidget(button)
        self._matches: list[tuple[int, int]] = []  # (start, end) Qt positions, document order
        self._more = False  # more than MAX_COUNTED matches
        self._recount = QTimer(self)
        self._recount.setSingleShot(True)
        self._recount.setInterval(RECOUNT_DELAY_MS)
        self._recount.timeout.connect(self._refresh)
        self.field.textEdited.connect(self._typed)
        self.field.escapePressed.connect(self.close_bar)
        self.field.enterPressed.connect(lambda back: self.find_previous() if back else self.find_next())
        self.case_button.toggled.connect(lambda _on: self._typed(self.field.text()))
        self.previous_button.clicked.connect(self.find_previous)
        self.next_button.clicked.connect(self.find_next)
        self.close_button.clicked.connect(self.close_bar)
        editor.document().contentsChanged.connect(self._document_changed)
        editor.selectionChanged.connect(self._show_count)
        self.setVisible(False)

    def _button(self, text: str, tip: str, checkable: bool = False) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(checkable)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the field keeps the keys
        return button

    # ---- what the menu and keys call -----------------------------------------------------------
    def open_bar(self) -> None:
        """Show the bar with the selected text (one line of it) to find, its text selected."""
        selected = self.editor.textCursor().selectedText()
        if selected and "\u2029" not in selected:  # Qt's paragraph separator: a multi-line selection
            self.field.setText(selected)
        self.setVisible(True)
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()
        self._refresh()

    def close_bar(self) -> None:
        if not self.isVisible():
            return
        self.setVisible(False)
        self._recount.stop()
        self.editor.set_search_marks([])
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self.closed.emit()

    def find_next(self) -> bool:
        return self._step(forward=True)

    def find_previous(self) -> bool:
        return self._step(forward=False)

    @property
    def case_sensitive(self) -> bool:
        return self.case_button.isChecked()

    def matches(self) -> list[tuple[int, int]]:
        """(start, end) of each match counted, in Qt positions (for tests and tools)."""
        return list(self._matches)

    # ---- searching ------------------------------------------------------------------------------
    def _step(self, forward: bool) -> bool:
        """Next or previous match, wrapping; F3 with the bar closed opens it on the last text."""
        if not self.isVisible():
            self.setVisible(True)
            self._refresh()
        if not self.field.text():
            self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return False
        found = self.editor.find(self.field.text(), forward, self.case_sensitive)
        self._show_count()
        return found

    def _typed(self, text: str) -> None:
        """Find as you type: the first match at or after where the selection starts."""
        cursor = self.editor.textCursor()
        cursor.setPosition(cursor.selectionStart())
        self.editor.setTextCursor(cursor)
        self._refresh()
        if text:
            self.editor.find(text, True, self.case_sensitive)
        self._show_count()

    def _document_changed(self) -> None:
        if self.isVisible() and self.field.text():
            self._recount.start()

    def _refresh(self) -> None:
        """Count (and tint) every match of the field's text in the document."""
        text = self.field.text()
        self._matches, self._more = [], False
        marks: list[QTextCursor] = []
        if text:
            doc = self.editor.document()
            flags = QTextDocument.FindFlag.FindCaseSensitively if self.case_sensitive else QTextDocument.FindFlag(0)
            found = doc.find(text, 0, flags)
            while not found.isNull():
                if len(self._matches) == MAX_COUNTED:
                    self._more = True
                    break
                self._matches.append((found.selectionStart(), found.selectionEnd()))
                if len(marks) < MAX_TINTED:
                    marks.append(found)
                found = doc.find(text, found, flags)
        self.editor.set_search_marks(marks)
        self._show_count()

    def _show_count(self) -> None:
        if not self.isVisible():
            return
        self.count_label.setText(self.count_text())
        self.count_label.setProperty("none", bool(self.field.text()) and not self._matches)
        self.count_label.style().polish(self.count_label)

    def count_text(self) -> str:
        """"3 of 12" on a match, "12 matches" elsewhere, "No results", or "" with nothing to find."""
        if not self.field.text():
            return ""
        if not self._matches:
            return "No results"
        total = f"{len(self._matches):,}{'+' if self._more else ''}"
        cursor = self.editor.textCursor()
        here = (cursor.selectionStart(), cursor.selectionEnd())
        at = bisect.bisect_left(self._matches, here)
        if at < len(self._matches) and self._matches[at] == here:
            return f"{at + 1:,} of {total}"
        return f"{total} match{'es' if total != '1' else ''}"
