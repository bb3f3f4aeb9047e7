"""A questionnaire page: Likert scales, 0–100 sliders (NASA-TLX) and free text.

Signals: `submitted(dict)` with {question id: answer} once every required item has an answer.
A slider counts as answered only after the participant moved or clicked it, so an untouched
default is never recorded as a rating.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
                               QRadioButton, QScrollArea, QSlider, QStyle, QStyleOptionSlider, QVBoxLayout, QWidget)

from ..questions import Question


class RatingSlider(QSlider):
    """A 0–100 slider that jumps to where it is clicked (a rating scale, not a scroll bar)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if event.button() == Qt.MouseButton.LeftButton:
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                                 QStyle.SubControl.SC_SliderGroove, self)
            handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                                 QStyle.SubControl.SC_SliderHandle, self)
            span = groove.width() - handle.width()
            x = int(event.position().x()) - groove.x() - handle.width() // 2
            self.setValue(QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x, span))
            self.sliderPressed.emit()
        super().mousePressEvent(event)


class _Item(QFrame):
    changed = Signal()

    def __init__(self, question: Question, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question = question
        self.setObjectName("questionItem")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        optional = "" if question.required or "optional" in question.text.lower() else "  (optional)"
        title = QLabel(f"{number}. {question.text}{optional}", self)
        title.setWordWrap(True)
        title.setObjectName("questionText")
        layout.addWidget(title)
        row = QHBoxLayout()
        self._value = None
        if question.kind == "likert":
            self.group = QButtonGroup(self)
            row.addWidget(_end_label(question.low, self))
            for i in range(1, question.points + 1):
                button = QRadioButton(str(i), self)
                button.setObjectName(f"{question.id}_{i}")
                self.group.addButton(button, i)
                row.addWidget(button)
            row.addWidget(_end_label(question.high, self))
            row.addStretch(1)
            self.group.idClicked.connect(self._set)
        elif question.kind == "slider":
            row.addWidget(_end_label(question.low, self))
            self.slider = RatingSlider(self)
            self.slider.setProperty("rated", False)  # drawn grey until the participant rates
            self.slider.setObjectName(question.id)
            self.slider.setRange(0, 100)
            self.slider.setSingleStep(question.step)
            self.slider.setPageStep(question.step * 2)
            self.slider.setTickInterval(question.step * 2)
            self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
            self.slider.setValue(50)
            self.slider.setMinimumWidth(420)
            self.slider.valueChanged.connect(self._slid)
            self.slider.sliderPressed.connect(lambda: self._slid(self.slider.value()))
            row.addWidget(self.slider, 1)
            row.addWidget(_end_label(question.high, self, left=True))
            self.readout = QLabel("not rated yet", self)
            self.readout.setObjectName("rating")
            self.readout.setMinimumWidth(120)
            row.addWidget(self.readout)
        else:
            self.text = QPlainTextEdit(self)
            self.text.setObjectName(question.id)
            self.text.setFixedHeight(90)
            self.text.textChanged.connect(lambda: self._set(self.text.toPlainText().strip() or None))
            row.addWidget(self.text, 1)
        layout.addLayout(row)

    def _slid(self, value: int) -> None:
        step = self.question.step
        snapped = int(round(value / step) * step)
        if snapped != value:
            self.slider.setValue(snapped)
            return
        self.readout.setText(f"rated {snapped}")
        self.readout.setStyleSheet("color: #ffffff;")
        if not self.slider.property("rated"):
            self.slider.setProperty("rated", True)
            self.slider.style().unpolish(self.slider)
            self.slider.style().polish(self.slider)
        self._set(snapped)

    def _set(self, value) -> None:
        self._value = value
        self.changed.emit()

    def value(self):
        return self._value

    def answered(self) -> bool:
        return self._value is not None or not self.question.required


def _end_label(text: str, parent: QWidget, left: bool = False) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("scaleEnd")
    label.setMinimumWidth(70)
    label.setAlignment((Qt.AlignmentFlag.AlignLeft if left else Qt.AlignmentFlag.AlignRight)
                       | Qt.AlignmentFlag.AlignVCenter)
    return label


class QuestionnairePage(QWidget):
    """Asks `questions`; see the module docstring."""

    submitted = Signal(dict)

    def __init__(self, questions: list[Question], heading: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(40, 20, 40, 20)
        title = QLabel(heading, self)
        title.setObjectName("pageTitle")
        title.setWordWrap(True)
        outer.addWidget(title)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget(scroll)
        body.setObjectName("questionBody")
        body.setMaximumWidth(1400)
        column = QVBoxLayout(body)
        self.items = [_Item(q, i, body) for i, q in enumerate(questions, 1)]
        for item in self.items:
            column.addWidget(item)
            item.changed.connect(self._update)
        column.addStretch(1)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        row = QHBoxLayout()
        self.hint = QLabel("", self)
        row.addWidget(self.hint, 1)
        self.continue_button = QPushButton("Continue", self)
        self.continue_button.setObjectName("primary")
        self.continue_button.clicked.connect(self._submit)
        row.addWidget(self.continue_button)
        outer.addLayout(row)
        self._update()

    def item(self, qid: str) -> _Item:
        return next(i for i in self.items if i.question.id == qid)

    def missing(self) -> int:
        return sum(not i.answered() for i in self.items)

    def _update(self) -> None:
        left = self.missing()
        self.continue_button.setEnabled(left == 0)
        self.hint.setText("" if left == 0 else f"{left} question(s) still to answer.")

    def answers(self) -> dict:
        return {i.question.id: i.value() for i in self.items}

    def _submit(self) -> None:
        if self.missing() == 0:
            self.continue_button.setEnabled(False)
            self.submitted.emit(self.answers())
