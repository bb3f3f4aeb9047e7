"""The study window's pages: participant id, consent, task introduction, the end; the task frame.

Signals: `ParticipantPage.chosen(str)`, `ConsentPage.answered(bool)`, `TaskIntroPage.started()`,
`TaskFrame.finishRequested()`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTextBrowser, QVBoxLayout,
                               QWidget)

from ..schedule import participant_number

STYLE = """
QWidget#studyShell { background: #1e1f22; color: #e6e6e6; font-size: 15px; }
QLabel#pageTitle { font-size: 26px; font-weight: 600; color: #ffffff; }
QLabel#pageText { font-size: 16px; color: #d8d8d8; }
QLabel#instruction { font-size: 18px; color: #ffffff; background: #2b3a55; padding: 10px 14px;
                     border-radius: 6px; font-family: monospace; }
QFrame#taskFrame { background: #26364f; border-bottom: 2px solid #4a78c2; }
QLabel#taskCount { font-size: 17px; font-weight: 700; color: #9cc3ff; }
QLabel#taskTitle { font-size: 17px; color: #ffffff; }
QLabel#taskHint { font-size: 14px; color: #c9d6ea; }
QFrame#questionItem { background: #26272b; border-radius: 6px; }
QLabel#questionText { font-size: 16px; color: #ffffff; }
QTextBrowser { background: #26272b; color: #e6e6e6; font-size: 16px; border: none; padding: 12px; }
QLineEdit { font-size: 18px; padding: 6px; background: #2b2d31; color: #ffffff; border: 1px solid #555; }
QPushButton { font-size: 16px; padding: 8px 18px; background: #3a3d44; color: #ffffff; border-radius: 5px; }
QPushButton:disabled { color: #8a8a8a; background: #2c2e33; }
QPushButton#primary { background: #2f6fd6; }
QPushButton#primary:disabled { background: #2b3a55; color: #8a96aa; }
QLabel { color: #e6e6e6; font-size: 15px; }
QRadioButton { color: #ffffff; font-size: 16px; spacing: 6px; padding: 4px 8px; }
QRadioButton::indicator { width: 18px; height: 18px; border-radius: 11px; border: 2px solid #9aa0aa;
                          background: #2b2d31; }
QRadioButton::indicator:checked { background: #2f6fd6; border: 2px solid #ffffff; }
QRadioButton:checked { color: #9cc3ff; font-weight: 700; }
QScrollArea, QScrollArea > QWidget > QWidget#questionBody { background: #1e1f22; }
QLabel#scaleEnd { color: #c9d6ea; font-size: 14px; }
QLabel#rating { color: #ffcc66; font-size: 15px; font-weight: 600; }
QSlider::groove:horizontal { height: 6px; background: #4a4d55; border-radius: 3px; }
QSlider::sub-page:horizontal { background: #2f6fd6; border-radius: 3px; }
QSlider::handle:horizontal { width: 20px; margin: -8px 0; border-radius: 10px; background: #9cc3ff; }
QSlider[rated="false"]::sub-page:horizontal { background: #4a4d55; }
QSlider[rated="false"]::handle:horizontal { background: #5c5f66; }
QPlainTextEdit { background: #2b2d31; color: #ffffff; font-size: 16px; border: 1px solid #555; }
QMenu { background: #2b2d31; color: #ffffff; font-size: 15px; border: 1px solid #4a78c2; }
QMenu::item { padding: 6px 24px; }
QMenu::item:selected { background: #2f6fd6; }
QMenu::item:disabled { color: #7a7d85; }
QLabel#pausedText { font-size: 30px; color: #ffffff; }
"""

READABLE_WIDTH = 1100  # px: text pages stay this narrow on wide screens


def reflow(text: str) -> str:
    """Paragraphs separated by blank lines; the line breaks inside a paragraph become spaces."""
    paragraphs = [" ".join(line.strip() for line in block.splitlines()) for block in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def _page(title: str, parent: QWidget | None) -> tuple[QWidget, QVBoxLayout]:
    page = QWidget(parent)
    page.setMaximumWidth(READABLE_WIDTH + 160)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(80, 50, 80, 40)
    layout.setSpacing(18)
    heading = QLabel(title, page)
    heading.setObjectName("pageTitle")
    heading.setWordWrap(True)
    layout.addWidget(heading)
    return page, layout


class ParticipantPage(QWidget):
    chosen = Signal(str)

    def __init__(self, study_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        page, layout = _page(f"Study “{study_id}”", self)
        QVBoxLayout(self).addWidget(page)
        text = QLabel("Researcher: enter the participant id (it ends in the participant's number, e.g. P7), "
                      "then hand over.", page)
        text.setObjectName("pageText")
        text.setWordWrap(True)
        layout.addWidget(text)
        self.field = QLineEdit(page)
        self.field.setPlaceholderText("participant id, e.g. P7")
        self.field.setMaximumWidth(360)
        layout.addWidget(self.field)
        self.error = QLabel("", page)
        self.error.setStyleSheet("color: #ff8a80;")
        layout.addWidget(self.error)
        self.start = QPushButton("Start", page)
        self.start.setObjectName("primary")
        self.start.setMaximumWidth(200)
        layout.addWidget(self.start)
        layout.addStretch(1)
        self.start.clicked.connect(self._go)
        self.field.returnPressed.connect(self._go)

    def _go(self) -> None:
        pid = self.field.text().strip()
        try:
            participant_number(pid)
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.error.setText("")
        self.chosen.emit(pid)


class ConsentPage(QWidget):
    answered = Signal(bool)

    def __init__(self, consent: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        page, layout = _page("Before we start", self)
        QVBoxLayout(self).addWidget(page)
        self.text = QTextBrowser(page)
        self.text.setPlainText(reflow(consent))
        layout.addWidget(self.text, 1)
        row = QHBoxLayout()
        self.decline = QPushButton("I do not agree", page)
        self.agree = QPushButton("I agree and want to take part", page)
        self.agree.setObjectName("primary")
        row.addWidget(self.decline)
        row.addStretch(1)
        row.addWidget(self.agree)
        layout.addLayout(row)
        self.agree.clicked.connect(lambda: self.answered.emit(True))
        self.decline.clicked.connect(lambda: self.answered.emit(False))


class TaskIntroPage(QWidget):
    started = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        page, layout = _page("", self)
        QVBoxLayout(self).addWidget(page)
        self.heading = page.findChild(QLabel, "pageTitle")
        self.description = QLabel("", page)
        self.description.setObjectName("pageText")
        self.description.setWordWrap(True)
        layout.addWidget(self.description)
        self.instruction = QLabel("", page)
        self.instruction.setObjectName("instruction")
        self.instruction.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.instruction)
        self.how = QLabel("", page)
        self.how.setObjectName("pageText")
        self.how.setWordWrap(True)
        layout.addWidget(self.how)
        self.start = QPushButton("Start task", page)
        self.start.setObjectName("primary")
        self.start.setMaximumWidth(220)
        layout.addWidget(self.start)
        layout.addStretch(1)
        self.start.clicked.connect(self.started.emit)

    def show_task(self, position: int, total: int, task) -> None:
        self.heading.setText(f"Task {position} of {total}: {task.title}")
        self.description.setText(task.description)
        if task.free:
            self.instruction.setText("Write your own instruction for the tool.")
        else:
            self.instruction.setText(f"Instruction: {task.instruction}")
        self.how.setText(
            "The code to change is already selected. The instruction is typed in for you at the bottom: "
            "press Enter to send it. Review each proposed change (Accept / Reject), fix anything that is "
            "wrong in the editor, then press “Finish task” at the top.")
        self.start.setEnabled(True)


class TaskFrame(QFrame):
    """The band above the editor: "Task k of n", the task, and Finish."""

    finishRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskFrame")
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 8, 16, 8)
        self.count = QLabel("", self)
        self.count.setObjectName("taskCount")
        self.title = QLabel("", self)
        self.title.setObjectName("taskTitle")
        self.hint = QLabel("", self)
        self.hint.setObjectName("taskHint")
        self.finish = QPushButton("Finish task", self)
        self.finish.setObjectName("primary")
        row.addWidget(self.count)
        row.addSpacing(12)
        row.addWidget(self.title)
        row.addSpacing(18)
        row.addWidget(self.hint, 1)
        row.addWidget(self.finish)
        self.finish.clicked.connect(self.finishRequested.emit)

    def show_task(self, position: int, total: int, task) -> None:
        self.count.setText(f"Task {position} of {total}")
        self.title.setText(task.title)
        self.hint.setText(f"Instruction: {task.instruction}" if not task.free else "Your own instruction")
        self.finish.setEnabled(True)


class MessagePage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        page, layout = _page("", self)
        QVBoxLayout(self).addWidget(page)
        self.heading = page.findChild(QLabel, "pageTitle")
        self.text = QLabel("", page)
        self.text.setObjectName("pageText")
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        self.button = QPushButton("Close", page)
        self.button.setMaximumWidth(200)
        layout.addWidget(self.button)
        layout.addStretch(1)

    def show_message(self, heading: str, text: str, button: str | None = "Close") -> None:
        self.heading.setText(heading)
        self.text.setText(text)
        self.button.setVisible(button is not None)
        if button:
            self.button.setText(button)
