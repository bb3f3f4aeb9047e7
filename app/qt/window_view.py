"""How the main window answers its controller: the `EditView` the `EditController` drives.

`WindowView` turns each controller call into widget updates on one `MainWindow` (editor, live
diff, gauges, instruction bar, status line); it decides nothing. The window builds one
(`MainWindow.edit_view`) and `app.qt.assembly.assemble` hands it to the controller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QMessageBox

from app.core.diff.stream import DiffUpdate, Redirect, StreamingDiff
from app.core.edit.states import HunkState, Mode
from app.qt.dialogs.files import APP_NAME
from wire import DoneStats

if TYPE_CHECKING:
    from app.qt.mainwindow import MainWindow

MODE_LABELS = {Mode.IDLE: "ready", Mode.STREAMING: "● streaming", Mode.STOPPED: "■ stopped",
               Mode.REVIEWING: "reviewing"}  # the status bar's mode field


class WindowView:
    """The `app.core.edit.view.EditView` of one main window (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        self._w = window
        self._mode = Mode.IDLE
        self._paint_callbacks: list[Callable[[], None]] = []  # waiting for the next diff frame
        self.confirm_box: QMessageBox | None = None  # for tests and tools: the question now open
        window.diff_view.framePainted.connect(self._frame_painted)

    # -- the document ----------------------------------------------------------------------------

    def document_text(self) -> str:
        return self._w.document_text()

    def selection(self) -> tuple[int, int]:
        return self._w.selection()

    def language(self) -> str:
        return self._w.language()

    def document_path(self) -> str | None:
        return self._w.path

    def set_selection(self, start: int, end: int) -> None:
        editor, files = self._w.editor, self._w.files
        cursor = editor.textCursor()
        cursor.setPosition(files.to_qt(end))
        cursor.setPosition(files.to_qt(start), QTextCursor.MoveMode.KeepAnchor)
        editor.setTextCursor(cursor)
        editor.centerCursor()

    def replace_ranges(self, edits: list[tuple[int, int, str]]) -> int:
        """Apply edits (current-text offsets) as one undo step, back to front so offsets hold;
        returns the undo position after it (the controller keeps hunk states in step with undo)."""
        document, files = self._w.editor.document(), self._w.files
        cursor = QTextCursor(document)
        cursor.beginEditBlock()
        try:
            qt = [(files.to_qt(s), files.to_qt(e), t) for s, e, t in edits]  # before any edit
            for start, end, text in sorted(qt, key=lambda e: e[0], reverse=True):
                cursor.setPosition(start)
                cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                cursor.insertText(text)
        finally:
            cursor.endEditBlock()
        return document.availableUndoSteps()

    # -- the target --------------------------------------------------------------------------------

    def show_target(self, start: int, end: int, label: str) -> None:
        w = self._w
        start, end = w.files.to_qt(start), w.files.to_qt(end)  # offsets are Python's
        w.editor.show_target(start, end)
        w.gauges.set_target(label)
        w.diff_view.set_first_line(w.editor.document().findBlock(start).blockNumber() + 1)

    def clear_target(self) -> None:
        self._w.editor.clear_target()

    def preview_target(self, label: str) -> None:
        self._w.gauges.set_target(f"{label} (on Enter)")

    # -- the live diff -----------------------------------------------------------------------------

    def diff_begin(self, diff: StreamingDiff) -> None:
        self._w.diff_view.show_diff(diff)

    def diff_update(self, update: DiffUpdate, text: str) -> None:
        self._w.diff_view.apply_update(update, fed=bool(text))

    def diff_finished(self, update: DiffUpdate, stopped: bool) -> None:
        self._w.diff_view.apply_update(update, fed=False)

    def diff_redirect(self, redirect: Redirect) -> None:
        self._w.diff_view.show_redirect(redirect)

    def diff_mark_problem(self, out_line: int) -> None:
        self._w.diff_view.set_problem_line(out_line)

    def set_hunk_state(self, index: int, state: HunkState) -> None:
        # A conflict leaves the hunk undecided in the view: the status line says why.
        shown = state if state in (HunkState.ACCEPTED, HunkState.REJECTED) else None
        self._w.diff_view.set_hunk_state(index, shown)

    def show_notice(self, kind: str, text: str, action: str = "") -> None:
        self._w.diff_view.show_notice(kind, text, action)

    def clear_notice(self) -> None:
        self._w.diff_view.clear_notice()

    def after_paint(self, callback: Callable[[], None]) -> None:
        """Call back once the diff pane has painted the output fed so far."""
        if not self._w.diff_view.isVisible():
            callback()  # nothing will paint; the arrival time is the best there is
            return
        self._paint_callbacks.append(callback)

    def _frame_painted(self, _latency_ms: float) -> None:
        callbacks, self._paint_callbacks = self._paint_callbacks, []
        for callback in callbacks:
            callback()

    # -- mode, status, questions -------------------------------------------------------------------

    def set_mode(self, mode: Mode) -> None:
        w = self._w
        previous, self._mode = self._mode, mode
        w.bar.set_mode(mode, mode.can_review)
        # Focus follows the work: a finished stream hands the keys to the diff (A / R / J / K, not
        # letters typed into the bar); the last decision hands them back to the editor. After a
        # stop it stays where it is: the user may be typing a redirect.
        if mode == Mode.REVIEWING and previous == Mode.STREAMING:
            w.diff_view.setFocus(Qt.FocusReason.OtherFocusReason)
        elif mode == Mode.IDLE and previous.can_review and w.diff_view.hasFocus():
            w.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        w.mode_label.setText(MODE_LABELS[mode])

    def show_status(self, text: str, level: str = "info") -> None:
        self._w.show_status(text, level)

    def keep_instruction(self, instruction: str) -> None:
        self._w.keep_instruction(instruction)

    def show_context(self, used_tokens: int, context_length: int, fits: bool, windows: int = 0) -> None:
        self._w.bar.set_context(used_tokens, context_length, fits, windows)

    def confirm(self, question: str, yes: str, then: Callable[[], Any]) -> QMessageBox:
        """Ask, without a nested event loop (the engine's events keep flowing); `then` on `yes`."""
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, question,
                          QMessageBox.StandardButton.NoButton, self._w)
        box.setObjectName("confirmAccept")
        accept = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # Enter twice never accepts by accident

        def answered(_result: int) -> None:
            if box.clickedButton() is accept:
                then()

        box.finished.connect(answered)
        box.finished.connect(box.deleteLater)
        box.open()
        self.confirm_box = box
        return box

    # -- the gauges --------------------------------------------------------------------------------

    def metrics_start(self, t_s: float) -> None:
        self._w.gauges.request_start(t_s)

    def metrics_tokens(self, count: int, t_s: float, draft: int) -> None:
        self._w.gauges.tokens(count, t_s, draft)

    def metrics_first_paint(self, t_s: float) -> None:
        self._w.gauges.first_paint(t_s)

    def metrics_done(self, stats: DoneStats) -> float | None:
        return self._w.gauges.done(stats)

    def feed_tiles(self, msg: dict[str, Any]) -> None:
        self._w.gauges.feed_tiles(msg)
