"""The instruction bar: the field, quick actions, Send/Stop, review buttons, context meter.

A passive view. Signals: `submitted(str)` on Enter or Send; `stopRequested()`; `acceptAllRequested()`,
`rejectAllRequested()`; `historyPrevious()` / `historyNext()` on Up/Down in the field;
`quickActionChosen(QuickAction)` when a quick action's button (or Alt+n) is pressed — the window
fills it from the code at the cursor and calls `put`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QSizePolicy, QToolButton,
    QVBoxLayout, QWidget,
)

from app.core.edit.quick_actions import QUICK_ACTIONS, Filled, QuickAction
from app.core.edit.states import Mode

PLACEHOLDERS = {
    Mode.IDLE: "Describe an edit for the selection or the function at the cursor — Enter sends",
    Mode.STREAMING: "Type a new instruction and press Enter to redirect mid-stream · Esc stops",
    Mode.STOPPED: "Enter continues the partial edit with a new instruction · select other code for a new edit",
    Mode.REVIEWING: "Review the changes (✓ / ✗, Ctrl+Enter accepts all), or describe a new edit",
}



class _Meter(QProgressBar):
    """The context meter: as wide as its text at its font (presentation mode enlarges the font
    after the text was set: ``InstructionBar.refit``)."""

    def _text_width(self) -> int:
        return max(190, self.fontMetrics().horizontalAdvance(self.text()) + 28)

    def sizeHint(self):  # noqa: N802  (QProgressBar's minimumSizeHint asks this one)
        hint = super().sizeHint()
        hint.setWidth(max(hint.width(), self._text_width()))
        return hint

    def minimumSizeHint(self):  # noqa: N802
        hint = super().minimumSizeHint()
        hint.setWidth(self._text_width())
        return hint

class InstructionField(QLineEdit):
    historyPrevious = Signal()
    historyNext = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        if event.key() == Qt.Key.Key_Up:
            self.historyPrevious.emit()
        elif event.key() == Qt.Key.Key_Down:
            self.historyNext.emit()
        else:
            super().keyPressEvent(event)


class InstructionBar(QWidget):
    submitted = Signal(str)
    stopRequested = Signal()
    acceptAllRequested = Signal()
    rejectAllRequested = Signal()
    quickActionChosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("instructionBar")
        self.field = InstructionField(self)
        self.field.setObjectName("instruction")
        self.field.setClearButtonEnabled(True)
        self.field.returnPressed.connect(self._submit)
        self.historyPrevious = self.field.historyPrevious
        self.historyNext = self.field.historyNext

        self.send_button = QPushButton("Send ⏎", self)
        self.send_button.setObjectName("send")
        self.send_button.clicked.connect(self._submit)
        self.stop_button = QPushButton("Stop ⎋", self)
        self.stop_button.setObjectName("stop")
        self.stop_button.clicked.connect(self.stopRequested)
        self.accept_all_button = QPushButton("Accept all", self)
        self.accept_all_button.setToolTip("Apply every settled change (Ctrl+Enter)")
        self.accept_all_button.clicked.connect(self.acceptAllRequested)
        self.reject_all_button = QPushButton("Reject all", self)
        self.reject_all_button.setToolTip("Discard every change (Ctrl+Shift+Backspace)")
        self.reject_all_button.clicked.connect(self.rejectAllRequested)

        self.context_meter = _Meter(self)
        self.context_meter.setObjectName("contextMeter")
        self.context_meter.setTextVisible(True)
        self.context_meter.setToolTip("Prompt tokens against the model's context window")
        self.set_context(0, 0, True)

        self.quick_buttons: list[QToolButton] = []
        self.quick_actions: tuple[QuickAction, ...] = ()
        self._quick_row = QHBoxLayout()
        self._quick_row.setSpacing(4)
        caption = QLabel("Quick:", self)
        caption.setObjectName("quickCaption")
        self._quick_row.addWidget(caption)
        self._quick_row.addStretch(1)
        self.set_actions(QUICK_ACTIONS)

        input_row = QHBoxLayout()
        input_row.addWidget(self.field, 1)
        for widget in (self.send_button, self.stop_button, self.accept_all_button,
                       self.reject_all_button, self.context_meter):
            input_row.addWidget(widget)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(4)
        layout.addLayout(self._quick_row)
        layout.addLayout(input_row)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.set_mode(Mode.IDLE, can_review=False)

    def set_actions(self, actions: tuple[QuickAction, ...], what: str = "") -> None:
        """One button per action (the active model's skills); `what` names whose they are."""
        for button in self.quick_buttons:
            self._quick_row.removeWidget(button)
            button.deleteLater()
        self.quick_buttons, self.quick_actions = [], tuple(actions)
        for position, action in enumerate(actions, 1):
            button = QToolButton(self)
            button.setObjectName("quickAction")
            button.setText(action.label)
            shown = action.instruction.replace("{ident}", "<name at the cursor>")
            keys = f"  ({action.shortcut})" if action.shortcut else ""
            button.setToolTip(f"{shown.strip()}{keys}" + (f"\n{what}" if what else ""))
            if action.shortcut:
                button.setShortcut(QKeySequence(action.shortcut))
            button.clicked.connect(lambda _=False, a=action: self.quickActionChosen.emit(a))
            self._quick_row.insertWidget(position, button)  # after the caption, before the stretch
            self.quick_buttons.append(button)

    def put(self, filled: Filled) -> None:
        """An instruction into the field, with the part to type selected (or the cursor placed)."""
        self.field.setText(filled.text)
        self.field.setFocus()
        if filled.select_end > filled.select_start:
            self.field.setSelection(filled.select_start, filled.select_end - filled.select_start)
        else:
            self.field.setCursorPosition(filled.select_start)

    def _submit(self) -> None:
        self.submitted.emit(self.field.text())

    def set_mode(self, mode: Mode, can_review: bool) -> None:
        self.field.setPlaceholderText(PLACEHOLDERS[mode])
        self.stop_button.setEnabled(mode == Mode.STREAMING)
        self.send_button.setText("Redirect ⏎" if mode in (Mode.STREAMING, Mode.STOPPED) else "Send ⏎")
        self.accept_all_button.setEnabled(can_review)
        self.reject_all_button.setEnabled(can_review)

    def refit(self) -> None:
        """Take the style sheet's font now and size the context meter for its text at it."""
        self.context_meter.ensurePolished()
        self.context_meter.updateGeometry()

    def set_context(self, used_tokens: int, context_length: int, fits: bool, windows: int = 0) -> None:
        meter = self.context_meter
        meter.setToolTip("Prompt tokens against the model's context window")
        if context_length > 0 and windows > 0 and fits:
            # Longer than the context, edited window by window: a full meter would read as refused.
            meter.setRange(0, windows * context_length)
            meter.setValue(min(used_tokens, windows * context_length))
            meter.setFormat(f"{used_tokens:,} tok · {windows} windows")
            meter.setToolTip(f"Longer than the model's context ({context_length:,} tokens): the engine "
                             f"edits it in {windows} windows, one after another, streamed as one edit")
        elif context_length <= 0:
            meter.setRange(0, 1)
            meter.setValue(0)
            meter.setFormat("context: –")
        else:
            meter.setRange(0, context_length)
            meter.setValue(min(used_tokens, context_length))
            meter.setFormat(f"{used_tokens:,} / {context_length:,} tok")
        meter.setProperty("overflow", not fits)
        meter.style().unpolish(meter)
        meter.style().polish(meter)
        meter.updateGeometry()
