"""A non-modal window with pytest's output, shown after a test run the user asked for."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QPlainTextEdit, QVBoxLayout, QWidget

from app.core.testrun import TestRunResult
from app.qt.widgets.editor import monospace_font


class TestResultsDialog(QDialog):
    __test__ = False  # a widget, not a pytest test class

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Test results")
        self.resize(820, 500)
        self.output = QPlainTextEdit(self)
        self.output.setReadOnly(True)
        self.output.setFont(monospace_font(12))
        QVBoxLayout(self).addWidget(self.output)

    def show_result(self, result: TestRunResult) -> None:
        verdict = "passed" if result.passed else "FAILED"
        self.setWindowTitle(f"Tests {verdict}: {result.summary}")
        self.output.setPlainText(result.output or result.summary)
        self.show()
        self.raise_()
