"""NoticeBanner: a message strip above the diff (out of scope, does not parse, too long).

It stays until the next edit starts or the user closes it, so it is not lost when the status line
moves on. One optional action button does what helps (choose a model, narrow the target), as an
editor's inline notification does. Colours come from the window's style sheet (`kind` property),
so presentation mode scales the text with the rest. Signals: ``actionClicked(str kind)``; ``closed()``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget


class NoticeBanner(QFrame):
    actionClicked = Signal(str)
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBanner")
        self.kind = ""  # the shown notice's kind ("" when hidden)
        self.label = QLabel(self)
        self.label.setObjectName("noticeText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton(self)
        self.action_button.setObjectName("noticeAction")
        self.action_button.clicked.connect(lambda: self.actionClicked.emit(self.kind))
        self.close_button = QToolButton(self)
        self.close_button.setText("×")
        self.close_button.setToolTip("Hide this message")
        self.close_button.clicked.connect(self._close)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_notice(self, kind: str, text: str, action: str = "") -> None:
        self.kind = kind
        self.setProperty("kind", kind)  # the window's style sheet colours each kind
        for widget in (self, self.label, self.action_button):
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        self.label.setText(text)
        self.action_button.setText(action)
        self.action_button.setVisible(bool(action))
        self.show()

    def clear(self) -> None:
        self.kind = ""
        self.hide()

    def _close(self) -> None:
        self.clear()
        self.closed.emit()
