"""Run the file's tests when asked (Ctrl+Shift+T): pytest in a child process, never on its own.

The result goes to the status line and a dialog with pytest's output. The tests import the files
on disk, as any test runner does: the status line says when unsaved text is not in them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog

from app.core.testrun import TestRunResult, guess_test_file, run_pytest
from app.qt.dialogs.files import file_dialog
from app.qt.dialogs.test_results import TestResultsDialog

if TYPE_CHECKING:
    from app.qt.mainwindow import MainWindow


class TestRunner:
    """The main window's "Run tests" command; `last_result` is the latest run's (None: none yet)."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, window: MainWindow) -> None:
        self._w = window
        self.last_result: TestRunResult | None = None
        self._dialog: TestResultsDialog | None = None

    def ask(self) -> None:
        """Run the tests found next to the file, or ask which file to run."""
        path = self._w.path
        guess = guess_test_file(path)
        if guess is not None:
            self.run(str(guess))
            return
        name = Path(path).stem if path else ""
        self._w.show_status(f"No test_{name}.py found near {name}.py: choose the test file to run." if name
                            else "Choose the test file to run.")
        dialog = file_dialog(self._w, "Choose a test file to run", path)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter("Python tests (test_*.py *_test.py);;All files (*)")
        dialog.fileSelected.connect(self.run)
        dialog.open()

    def run(self, test_file: str) -> asyncio.Task[Any]:
        self._w.run_tests_action.setEnabled(False)
        self._w.show_status(f"Running pytest on {Path(test_file).name}…")
        return self._w.controller.spawn(self._run(test_file))

    async def _run(self, test_file: str) -> None:
        try:
            result = await run_pytest(test_file)
        finally:
            self._w.run_tests_action.setEnabled(True)
        self.last_result = result
        level = "ok" if result.passed else "error"
        unsaved = " — on the saved file: your unsaved changes are not in it (Ctrl+S, then run again)" \
            if self._w.editor.document().isModified() else ""
        self._w.show_status(f"Tests {Path(test_file).name}: {result.summary} ({result.duration_s:.1f} s){unsaved}",
                            "warn" if unsaved and result.passed else level)
        if self._dialog is None:
            self._dialog = TestResultsDialog(self._w)
        self._dialog.show_result(result)
