"""LiveDiffView: the live diff with per-hunk review (a `DiffPane` plus decisions, keys, buttons).

A view only: it shows a `StreamingDiff` its owner (the controller) feeds, and the hunk states its
owner decides (`set_hunk_state`, kept in `review_marks.ReviewMarks`); the user's clicks and keys
are emitted as requests.

Signals (besides `DiffPane`'s ``framePainted`` and ``noticeActionClicked``):
- ``hunkAccepted(int)`` / ``hunkRejected(int)``: the user asks to accept/reject a final hunk
  (header button, or A / R on the current hunk; J / K move between hunks).
- ``acceptAllRequested()`` (Ctrl+Enter) / ``rejectAllRequested()`` (Ctrl+Backspace).
- ``undoRequested()`` / ``redoRequested()``: Ctrl+Z / Ctrl+Shift+Z pressed here (the editor's).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QWidget

from app.core.diff.rows import DiffRow
from app.core.highlight import DARK, Theme
from app.qt.widgets.diff_legend import DiffLegend
from app.qt.widgets.diffpane import DiffPane
from app.qt.widgets.editor import DEFAULT_POINT_SIZE
from app.qt.widgets.review_marks import ACCEPTED, REJECTED, ReviewMarks

LEGEND = ("Red rows: lines the edit removes · green rows: lines it adds · grey: original lines the "
          "model has not reached yet.\nUnderlined text: taken from the predicted output (the original "
          "code) and verified by the model in one pass, rather than generated token by token.\n"
          "Red edge and wavy red line: where the edited code stops parsing.\n"
          "A / R accept or reject the current change, J / K move; Ctrl+Enter accepts all.")

__all__ = ["ACCEPTED", "REJECTED", "DiffRow", "LiveDiffView"]


class LiveDiffView(DiffPane):
    """See the module docstring for the signals."""

    hunkAccepted = Signal(int)
    hunkRejected = Signal(int)
    acceptAllRequested = Signal()
    rejectAllRequested = Signal()
    undoRequested = Signal()
    redoRequested = Signal()

    def __init__(self, parent: QWidget | None = None, theme: Theme = DARK,
                 point_size: int = DEFAULT_POINT_SIZE):
        super().__init__(parent, theme, point_size)  # calls clear(): the marks start empty
        self.setToolTip(LEGEND)
        self.legend = DiffLegend(self, theme)  # what the colours and marks mean, while a diff shows
        self.legend.setVisible(False)
        self.footer = self.legend

    def show_diff(self, diff) -> None:  # noqa: D102 (DiffPane's, with the legend)
        super().show_diff(diff)
        self._show_legend(True)

    def clear(self) -> None:
        self._marks = ReviewMarks()  # the decisions shown and the hunk the keys act on
        super().clear()
        self._show_legend(False)  # the idle pane explains the workflow instead

    def _show_legend(self, on: bool) -> None:
        legend = getattr(self, "legend", None)  # DiffPane.__init__ clears before the legend exists
        if legend is not None and legend.isVisibleTo(self) != on:
            legend.setVisible(on)
            self._place_notice()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presentation mode: the legend grows too
            self._place_notice()

    def set_problem_line(self, out_line: int) -> None:
        """Mark the output line where the edited code stops parsing (-1: none), and show its change."""
        super().set_problem_line(out_line)
        if self._diff is not None and out_line >= 0:
            for hunk in self._diff.final_hunks:
                if hunk.out_start <= out_line < hunk.out_start + max(1, len(hunk.new_lines)):
                    self._marks.current = hunk.index  # A / R act on it first
                    self.scroll_to_hunk(hunk.index)
                    break

    # ---- review state ----------------------------------------------------------------------------
    @property
    def current_hunk(self) -> int | None:
        return self._marks.current

    def hunk_state(self, index: int) -> str | None:
        return self._marks.states.get(index)

    def set_hunk_state(self, index: int, state: str | None) -> None:
        """Show a hunk as accepted/rejected (or undecided again, e.g. after a conflict)."""
        self._marks.set_state(index, state)
        self._advance_current()
        self.viewport().update()

    def accept(self, index: int) -> None:
        """Ask to accept a final hunk; it shows as accepted once its owner says so (`set_hunk_state`)."""
        if index in self._rows.header_rows:  # not final yet: nothing to decide
            self.hunkAccepted.emit(index)

    def reject(self, index: int) -> None:
        if index in self._rows.header_rows:
            self.hunkRejected.emit(index)

    def _advance_current(self) -> None:
        if self._marks.advance(self._rows.header_rows) and not self.follow:
            self.reveal_change(self._marks.current)

    # ---- DiffPane's hooks ------------------------------------------------------------------------
    def _hunks_settled(self) -> None:
        self._advance_current()

    def _output_done(self) -> None:
        if self._marks.current is not None:
            self.reveal_change(self._marks.current)  # the first change to review is on screen, also sideways

    def _header_state(self, hunk: int) -> str | None:
        return self._marks.states.get(hunk)

    def _is_current(self, hunk: int) -> bool:
        return hunk == self._marks.current

    # ---- buttons and input -----------------------------------------------------------------------
    def button_rect(self, hunk: int, action: str) -> QRect | None:
        """Viewport rectangle of a final hunk's "accept"/"reject" button, or None if off screen."""
        row = self._rows.header_rows.get(hunk)
        if row is None:
            return None
        top = (row - self.verticalScrollBar().value()) * self.row_height()
        if top < 0 or top > self.viewport().height():
            return None
        accept, reject, _labels = self._painter.button_geometry(top, self.viewport().width())
        return accept if action == "accept" else reject

    def mousePressEvent(self, event) -> None:  # noqa: N802
        pos: QPoint = event.position().toPoint()
        index = self.verticalScrollBar().value() + pos.y() // self.row_height()
        if 0 <= index < len(self._rows.final):
            row = self._rows.row(index)
            if row.kind == "header" and row.hunk not in self._marks.states:
                top = (index - self.verticalScrollBar().value()) * self.row_height()
                accept, reject, _labels = self._painter.button_geometry(top, self.viewport().width())
                if accept.contains(pos):
                    self.accept(row.hunk)
                elif reject.contains(pos):
                    self.reject(row.hunk)
                if row.hunk not in self._marks.states:
                    self._marks.current = row.hunk
                self._advance_current()
                self.viewport().update()
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undoRequested.emit()
        elif event.matches(QKeySequence.StandardKey.Redo):
            self.redoRequested.emit()
        elif ctrl and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.acceptAllRequested.emit()  # the controller decides (it may ask first) and marks them
        elif ctrl and key == Qt.Key.Key_Backspace:
            self.rejectAllRequested.emit()
        elif key in (Qt.Key.Key_A, Qt.Key.Key_Y) and self._marks.current is not None:
            self.accept(self._marks.current)
        elif key in (Qt.Key.Key_R, Qt.Key.Key_N) and self._marks.current is not None:
            self.reject(self._marks.current)
        elif key in (Qt.Key.Key_J, Qt.Key.Key_K):
            self._step_current(1 if key == Qt.Key.Key_J else -1)
        else:
            super().keyPressEvent(event)

    def _step_current(self, step: int) -> None:
        current = self._marks.step(self._rows.header_rows, step)
        if current is not None:
            self.scroll_to_hunk(current)
            self.viewport().update()
