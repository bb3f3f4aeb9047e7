"""LiveDiffView: the proposed edit growing as tokens arrive, with per-hunk review.

Inline unified view, painted row by row (only the visible rows are drawn, so a 2,000-line file costs
the same as a 20-line one). Rows of settled hunks are only ever appended; the unsettled tail, the
held-back partial line and the pending (not yet reached, greyed) original are redrawn each frame.
Repaints happen on a ~60 Hz frame timer and only when something changed, never per token.

Signals:
- ``hunkAccepted(int)`` / ``hunkRejected(int)``: the user accepted/rejected a final hunk
  (header button, or A / R on the current hunk; J / K move between hunks).
- ``acceptAllRequested()`` (Ctrl+Enter) / ``rejectAllRequested()`` (Ctrl+Backspace).
- ``framePainted(float)``: a frame showing new output was painted; the argument is the
  token-to-paint latency of the oldest chunk in it (ms). The first one after ``begin`` is the
  moment the first token became visible (client TTFT).
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from app.diffstream import DiffUpdate, Redirect, Segment, StreamingDiff
from app.highlight import DARK, LineLexer, Theme, lexer_for, style_for
from app.widgets.editor import DEFAULT_POINT_SIZE, monospace_font

FRAME_MS = 16  # frame timer period (ms): ~60 Hz
ACCEPTED, REJECTED = "accepted", "rejected"


@dataclass(frozen=True)
class DiffRow:
    """One painted line of the view."""

    kind: str  # "context", "removed", "added", "header", "redirect", "partial" or "pending"
    text: str  # the line, without its newline
    orig_line: int  # 0-based original line number, -1 if none
    out_line: int  # 0-based output line number, -1 if none
    hunk: int  # hunk index for header/removed/added rows, -1 otherwise
    final: bool  # settled: this row is never rewritten


class LiveDiffView(QAbstractScrollArea):
    """See the module docstring for the signals."""

    hunkAccepted = Signal(int)
    hunkRejected = Signal(int)
    acceptAllRequested = Signal()
    rejectAllRequested = Signal()
    framePainted = Signal(float)

    def __init__(self, parent: QWidget | None = None, theme: Theme = DARK,
                 point_size: int = DEFAULT_POINT_SIZE):
        super().__init__(parent)
        self.theme = theme
        self._font = monospace_font(point_size)
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        self.setFont(self._font)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setAutoFillBackground(False)
        self._lexer = LineLexer(lexer_for("python"))
        self._token_cache: dict[str, list] = {}
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_frame)
        self.paint_count = 0  # frames painted since creation (count)
        self.follow = True  # keep the stream front in view until the user scrolls away
        self.clear()

    # ---- driving (the controller calls these) -------------------------------------------------
    def begin(self, original: str) -> None:
        """Start showing an edit of ``original`` (forgets any previous one)."""
        self.clear()
        self._diff = StreamingDiff(original)
        self._apply(DiffUpdate(pending_start=0))

    def feed(self, chunk: str, draft_tokens: int = 0) -> None:
        if self._diff is None:
            raise RuntimeError("feed() before begin()")
        if self._unpainted_since is None and chunk:
            self._unpainted_since = time.perf_counter()
        self._apply(self._diff.feed(chunk, draft_tokens))

    def mark_redirect(self, instruction: str) -> None:
        if self._diff is None:
            raise RuntimeError("mark_redirect() before begin()")
        self._redirects_unplaced.append(self._diff.mark_redirect(instruction))
        self._mark_dirty()

    def finish(self, stopped: bool = False) -> None:
        """The output is complete (or was stopped): settle every hunk."""
        if self._diff is None:
            return
        self._apply(self._diff.finish(stopped))
        self._append_redirects(None)
        self._mark_dirty()

    def clear(self) -> None:
        self._diff: StreamingDiff | None = None
        self._final_rows: list[DiffRow] = []
        self._tail_rows: list[DiffRow] = []
        self._pending_start = 0  # first original line not reached yet
        self._redirects_unplaced: list[Redirect] = []
        self._states: dict[int, str] = {}  # hunk index -> ACCEPTED / REJECTED
        self._header_rows: dict[int, int] = {}  # final hunk index -> row index of its header
        self._current: int | None = None  # hunk the keys act on
        self._out_starts: list[int] = [0]  # char offset of each output line start
        self._max_chars = 0  # longest row seen (chars), for the horizontal scroll range
        self._unpainted_since: float | None = None  # oldest chunk not yet in a frame (s)
        self._frame_since: float | None = None  # oldest chunk in the frame awaiting paint (s)
        self._dirty = False
        self._latest = DiffUpdate()
        self.follow = True
        self._mark_dirty()

    def set_language_for(self, path_or_name: str | None) -> str:
        self._lexer = LineLexer(lexer_for(path_or_name))
        self._token_cache.clear()
        self.viewport().update()
        return self._lexer.name

    # ---- review state ----------------------------------------------------------------------------
    @property
    def diff(self) -> StreamingDiff | None:
        return self._diff

    @property
    def current_hunk(self) -> int | None:
        return self._current

    def hunk_state(self, index: int) -> str | None:
        return self._states.get(index)

    def set_hunk_state(self, index: int, state: str | None) -> None:
        """Show a hunk as accepted/rejected (or undecided again, e.g. after a conflict)."""
        if state not in (ACCEPTED, REJECTED, None):
            raise ValueError(f"state must be {ACCEPTED!r}, {REJECTED!r} or None, got {state!r}")
        if state is None:
            self._states.pop(index, None)
        else:
            self._states[index] = state
        self._advance_current()
        self.viewport().update()

    def accept(self, index: int) -> None:
        self._decide(index, ACCEPTED)

    def reject(self, index: int) -> None:
        self._decide(index, REJECTED)

    def _decide(self, index: int, state: str) -> None:
        if index not in self._header_rows:
            return  # not final yet: nothing to decide
        self.set_hunk_state(index, state)
        (self.hunkAccepted if state == ACCEPTED else self.hunkRejected).emit(index)

    def _advance_current(self) -> None:
        if self._current is None or self._current in self._states:
            undecided = [i for i in sorted(self._header_rows) if i not in self._states]
            self._current = undecided[0] if undecided else None

    # ---- rows ------------------------------------------------------------------------------------
    def rows(self) -> list[DiffRow]:
        """Every row top to bottom (materialises the pending original; for tests and tools)."""
        return [self._row(i) for i in range(self.row_count())]

    def row_count(self) -> int:
        orig_lines = len(self._diff.original_lines) if self._diff else 0
        return len(self._final_rows) + len(self._tail_rows) + orig_lines - self._pending_start

    def _row(self, index: int) -> DiffRow:
        if index < len(self._final_rows):
            return self._final_rows[index]
        index -= len(self._final_rows)
        if index < len(self._tail_rows):
            return self._tail_rows[index]
        line = self._pending_start + index - len(self._tail_rows)
        return DiffRow("pending", self._diff.original_lines[line].rstrip("\n"), line, -1, -1, False)

    def _apply(self, update: DiffUpdate) -> None:
        out = self._diff.output_lines
        for line in out[len(self._out_starts) - 1:]:
            self._out_starts.append(self._out_starts[-1] + len(line))
        for segment in update.final_segments:
            self._final_rows.extend(self._segment_rows(segment, True, self._redirects_unplaced))
        for hunk in update.new_final_hunks:
            self._advance_current()
        self._latest = update
        self._mark_dirty()

    def _segment_rows(self, segment: Segment, final: bool, redirects: list[Redirect]):
        orig, out = self._diff.original_lines, self._diff.output_lines
        rows: list[DiffRow] = []
        if segment.kind != "equal":
            if final:
                self._header_rows[segment.hunk] = len(self._final_rows)
            rows.append(DiffRow("header", "", segment.orig_start, segment.out_start, segment.hunk, final))
            rows += [DiffRow("removed", orig[i].rstrip("\n"), i, -1, segment.hunk, final)
                     for i in range(segment.orig_start, segment.orig_end)]
        for j in range(segment.out_start, segment.out_end):
            while redirects and redirects[0].out_line <= j:
                rows.append(self._redirect_row(redirects.pop(0), final))
            if segment.kind == "equal":
                i = segment.orig_start + j - segment.out_start
                rows.append(DiffRow("context", out[j].rstrip("\n"), i, j, -1, final))
            else:
                rows.append(DiffRow("added", out[j].rstrip("\n"), -1, j, segment.hunk, final))
        self._max_chars = max([self._max_chars, *(len(r.text) for r in rows)])
        return rows

    @staticmethod
    def _redirect_row(redirect: Redirect, final: bool) -> DiffRow:
        return DiffRow("redirect", redirect.instruction, -1, redirect.out_line, -1, final)

    def _append_redirects(self, before_line: int | None) -> None:
        while self._redirects_unplaced and (before_line is None
                                            or self._redirects_unplaced[0].out_line < before_line):
            self._final_rows.append(self._redirect_row(self._redirects_unplaced.pop(0), True))

    def _rebuild_tail(self) -> None:
        update = self._latest
        redirects = list(self._redirects_unplaced)
        rows: list[DiffRow] = []
        for segment in update.tentative_segments:
            rows += self._segment_rows(segment, False, redirects)
        rows += [self._redirect_row(r, False) for r in redirects]
        if update.partial_line:
            rows.append(DiffRow("partial", update.partial_line, -1, len(self._diff.output_lines),
                                -1, False))
        self._tail_rows = rows
        self._pending_start = update.pending_start

    # ---- frames ----------------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def _on_frame(self) -> None:
        if not self._dirty:
            self._timer.stop()
            return
        self._dirty = False
        if self._unpainted_since is not None:
            if self._frame_since is None:
                self._frame_since = self._unpainted_since
            self._unpainted_since = None
        if self._diff is not None:
            self._rebuild_tail()
        else:
            self._tail_rows, self._pending_start = [], 0
        self._update_scrollbars()
        self.viewport().update()

    def row_height(self) -> int:
        return self.fontMetrics().height() + 4

    def _gutter_width(self) -> int:
        # old and new line numbers (6 columns each), a sign column, padding
        return self.fontMetrics().horizontalAdvance("9") * 14 + 14

    def _update_scrollbars(self) -> None:
        visible = max(1, self.viewport().height() // self.row_height())
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, self.row_count() - visible))
        bar.setPageStep(visible)
        width = self._max_chars * self.fontMetrics().horizontalAdvance("x") + self._gutter_width()
        self.horizontalScrollBar().setRange(0, max(0, width - self.viewport().width() + 20))
        self.horizontalScrollBar().setPageStep(self.viewport().width())
        if self.follow:
            front = len(self._final_rows) + len(self._tail_rows)
            bar.setValue(max(0, min(bar.maximum(), front - visible * 2 // 3)))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._update_scrollbars()

    def wheelEvent(self, event) -> None:  # noqa: N802
        super().wheelEvent(event)
        front = len(self._final_rows) + len(self._tail_rows)
        bar = self.verticalScrollBar()
        # Scrolling away from the stream front stops following; scrolling back resumes it.
        self.follow = bar.value() <= front <= bar.value() + bar.pageStep()

    # ---- geometry and painting -------------------------------------------------------------------
    def button_rect(self, hunk: int, action: str) -> QRect | None:
        """Viewport rectangle of a final hunk's "accept"/"reject" button, or None if off screen."""
        row = self._header_rows.get(hunk)
        if row is None:
            return None
        top = (row - self.verticalScrollBar().value()) * self.row_height()
        if top < 0 or top > self.viewport().height():
            return None
        return self._button_geometry(top)[0 if action == "accept" else 1]

    def _button_geometry(self, top: int) -> tuple[QRect, QRect]:
        metrics = self.fontMetrics()
        width = metrics.horizontalAdvance("✓ Accept  A") + 20
        x = self._gutter_width() + metrics.horizontalAdvance("x") * 30
        height = self.row_height() - 2
        return QRect(x, top + 1, width, height), QRect(x + width + 10, top + 1, width, height)

    def scroll_to_hunk(self, hunk: int) -> None:
        row = self._header_rows.get(hunk)
        if row is not None:
            self.follow = False
            self.verticalScrollBar().setValue(max(0, row - 2))

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self.viewport())
        theme, height = self.theme, self.row_height()
        painter.fillRect(event.rect(), QColor(theme.background))
        first = self.verticalScrollBar().value()
        last = min(self.row_count(), first + self.viewport().height() // height + 2)
        for index in range(first, last):
            self._paint_row(painter, self._row(index), (index - first) * height)
        painter.end()
        self.paint_count += 1
        if self._frame_since is not None:
            latency_ms = (time.perf_counter() - self._frame_since) * 1000.0
            self._frame_since = None
            self.framePainted.emit(latency_ms)

    _BACKGROUNDS = {"added": "added", "removed": "removed", "partial": "added"}

    def _paint_row(self, painter: QPainter, row: DiffRow, top: int) -> None:
        theme, height, metrics = self.theme, self.row_height(), self.fontMetrics()
        width = self.viewport().width()
        gutter = self._gutter_width()
        char_w = metrics.horizontalAdvance("x")
        x0 = gutter - self.horizontalScrollBar().value()
        if row.kind == "header":
            self._paint_header(painter, row, top)
            return
        if row.kind == "redirect":
            painter.fillRect(0, top, width, height, QColor(theme.current_line))
            painter.setPen(QColor(theme.redirect))
            painter.setFont(self._bold)
            painter.drawLine(0, top + height // 2, 12, top + height // 2)
            label = f"↪ redirected: {row.text}" if row.text else "↪ redirected"
            painter.drawText(16, top, width - 16, height, Qt.AlignmentFlag.AlignVCenter, label)
            painter.setFont(self._font)
            return
        background = self._BACKGROUNDS.get(row.kind)
        if background:
            painter.fillRect(0, top, width, height, QColor(getattr(theme, background)))
        if row.kind in ("added", "partial", "context") and row.out_line >= 0:
            self._paint_draft(painter, row, top, x0, char_w)
        if not row.final and row.kind in ("added", "removed"):
            painter.fillRect(0, top, 3, height, QColor(theme.accent))  # still settling
        digit_w = metrics.horizontalAdvance("9")
        painter.fillRect(0, top, digit_w * 12 + 8, height, QColor(theme.gutter_background))
        painter.setPen(QColor(theme.gutter_foreground))
        right = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
        if row.orig_line >= 0:
            painter.drawText(0, top, digit_w * 6, height, right, str(row.orig_line + 1))
        if row.out_line >= 0 and row.kind != "partial":
            painter.drawText(digit_w * 6, top, digit_w * 6, height, right, str(row.out_line + 1))
        sign = {"added": "+", "removed": "−", "partial": "+"}.get(row.kind, "")
        if sign:
            painter.setPen(QColor("#7ee787" if sign == "+" else "#ffa198"))
            painter.setFont(self._bold)
            painter.drawText(digit_w * 12 + 8, top, digit_w * 2, height, Qt.AlignmentFlag.AlignCenter, sign)
            painter.setFont(self._font)
        painter.setClipRect(gutter, top, width - gutter, height)
        baseline = top + (height + metrics.ascent() - metrics.descent()) // 2
        if row.kind == "pending":
            painter.setPen(QColor(theme.pending))
            painter.drawText(x0, baseline, row.text)
        else:
            x = x0
            for start, length, ttype in self._tokens(row.text):
                part = row.text[start:start + length]
                style = style_for(theme, ttype)
                painter.setPen(QColor(style.color))
                painter.drawText(x, baseline, part)
                x += char_w * len(part)
            if row.kind == "partial":  # the stream's cursor
                painter.fillRect(x + 1, top + 3, max(2, char_w // 2), height - 6, QColor(theme.accent))
        painter.setClipping(False)

    def _paint_draft(self, painter: QPainter, row: DiffRow, top: int, x0: int, char_w: int) -> None:
        spans = self._diff.draft_spans if self._diff else []
        if not spans:
            return
        start = self._out_starts[row.out_line] if row.out_line < len(self._out_starts) else 0
        end = start + len(row.text)
        starts = [s.out_start_char for s in spans]
        for span in spans[max(0, bisect.bisect_right(starts, start) - 1):]:
            if span.out_start_char >= end:
                break
            a, b = max(start, span.out_start_char), min(end, span.out_end_char)
            if a < b:  # an underline: visible, yet quieter than a second background
                painter.fillRect(x0 + (a - start) * char_w, top + self.row_height() - 4,
                                 (b - a) * char_w, 3, QColor(self.theme.draft))

    def _paint_header(self, painter: QPainter, row: DiffRow, top: int) -> None:
        theme, height, width = self.theme, self.row_height(), self.viewport().width()
        state = self._states.get(row.hunk)
        painter.fillRect(0, top, width, height, QColor(theme.gutter_background))
        if row.final and row.hunk == self._current:
            painter.setPen(QColor(theme.accent))
            painter.drawRect(1, top + 1, width - 3, height - 2)
        painter.setFont(self._bold)
        label = f"  hunk {row.hunk + 1} · line {row.orig_line + 1}"
        if not row.final:
            label += " · streaming…"
        elif state:
            label += " · " + ("✓ accepted" if state == ACCEPTED else "✗ rejected")
        painter.setPen(QColor(theme.foreground if row.final else theme.pending))
        painter.drawText(8, top, width, height, Qt.AlignmentFlag.AlignVCenter, label)
        if row.final and not state:
            for rect, text, colour in zip(self._button_geometry(top), ("✓ Accept  A", "✗ Reject  R"),
                                          ("#2ea043", "#da3633")):
                painter.setBrush(QColor(colour))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.drawRoundedRect(rect, 5, 5)
                painter.setPen(QColor("#ffffff"))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setFont(self._font)

    def _tokens(self, text: str):
        tokens = self._token_cache.get(text)
        if tokens is None:
            if len(self._token_cache) > 20_000:
                self._token_cache.clear()
            tokens = self._token_cache[text] = self._lexer.lex(text)[0]
        return tokens

    # ---- input -------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        pos: QPoint = event.position().toPoint()
        index = self.verticalScrollBar().value() + pos.y() // self.row_height()
        if 0 <= index < len(self._final_rows):
            row = self._final_rows[index]
            if row.kind == "header" and row.hunk not in self._states:
                accept, reject = self._button_geometry((index - self.verticalScrollBar().value())
                                                       * self.row_height())
                if accept.contains(pos):
                    self.accept(row.hunk)
                elif reject.contains(pos):
                    self.reject(row.hunk)
                self._current = row.hunk if row.hunk not in self._states else self._current
                self._advance_current()
                self.viewport().update()
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if ctrl and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            for index in sorted(self._header_rows):
                self._states.setdefault(index, ACCEPTED)
            self._advance_current()
            self.viewport().update()
            self.acceptAllRequested.emit()
        elif ctrl and key == Qt.Key.Key_Backspace:
            for index in sorted(self._header_rows):
                self._states.setdefault(index, REJECTED)
            self._advance_current()
            self.viewport().update()
            self.rejectAllRequested.emit()
        elif key in (Qt.Key.Key_A, Qt.Key.Key_Y) and self._current is not None:
            self.accept(self._current)
        elif key in (Qt.Key.Key_R, Qt.Key.Key_N) and self._current is not None:
            self.reject(self._current)
        elif key in (Qt.Key.Key_J, Qt.Key.Key_K):
            self._step_current(1 if key == Qt.Key.Key_J else -1)
        else:
            super().keyPressEvent(event)

    def _step_current(self, step: int) -> None:
        undecided = [i for i in sorted(self._header_rows) if i not in self._states]
        if not undecided:
            return
        if self._current not in undecided:
            self._current = undecided[0]
        else:
            position = undecided.index(self._current) + step
            self._current = undecided[max(0, min(len(undecided) - 1, position))]
        self.scroll_to_hunk(self._current)
        self.viewport().update()
