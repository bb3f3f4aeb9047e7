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
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from app.diffstream import DiffUpdate, Redirect, Segment, StreamingDiff
from app.highlight import DARK, LineLexer, Theme, lexer_for, style_for
from app.widgets.editor import DEFAULT_POINT_SIZE, monospace_font

FRAME_MS = 16  # frame timer period (ms): ~60 Hz
ACCEPTED, REJECTED = "accepted", "rejected"
HIGHLIGHT_BUDGET_S = 0.004  # time a frame may spend colouring new lines (s)
PIXMAP_CACHE_ROWS = 1200  # rendered lines and numbers kept (a few screens' worth; ~40 KB each)


@dataclass(frozen=True)
class DiffRow:
    """One painted line of the view."""

    kind: str  # "context", "removed", "added", "header", "redirect", "partial" or "pending"
    text: str  # the line, without its newline
    orig_line: int  # 0-based original line number, -1 if none
    out_line: int  # 0-based output line number, -1 if none
    hunk: int  # hunk index for header/removed/added rows, -1 otherwise
    final: bool  # settled: this row is never rewritten


@dataclass(frozen=True)
class _Run:
    """Consecutive rows of one kind, kept as line ranges so a long run costs O(1)."""

    kind: str  # row kind, as in DiffRow
    count: int  # rows in the run
    orig_start: int  # original line of the first row, -1 if the rows have none
    out_start: int  # output line of the first row, -1 if the rows have none
    hunk: int  # hunk index, -1 if none
    final: bool  # settled
    text: str = ""  # the text of a single header/redirect/partial row


class _Runs:
    """A list of runs indexed by row."""

    def __init__(self):
        self._runs: list[_Run] = []
        self._starts: list[int] = []  # first row index of each run
        self._rows = 0  # total rows (count)

    def __len__(self) -> int:
        return self._rows

    def add(self, run: _Run) -> None:
        if run.count > 0:
            self._runs.append(run)
            self._starts.append(self._rows)
            self._rows += run.count

    def row(self, index: int, diff: StreamingDiff) -> DiffRow:
        k = bisect.bisect_right(self._starts, index) - 1
        run, offset = self._runs[k], index - self._starts[k]
        orig = run.orig_start + offset if run.orig_start >= 0 else -1
        out = run.out_start + offset if run.out_start >= 0 and run.kind != "removed" else -1
        if run.kind in ("header", "redirect"):
            orig, out = run.orig_start, run.out_start
        if run.kind in ("context", "added"):
            text = diff.output_lines[out].rstrip("\n")
        elif run.kind == "removed":
            text = diff.original_lines[orig].rstrip("\n")
        else:
            text = run.text
        return DiffRow(run.kind, text, orig, out, run.hunk, run.final)


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
        self._pixmaps: OrderedDict[tuple[str, str | None], QPixmap] = OrderedDict()  # LRU images
        self._colours: dict[str, QColor] = {}
        self._highlight_deadline_s = 0.0  # this frame's highlighting budget ends (perf_counter s)
        self._frame_incomplete = False  # some rows were drawn plain and need another frame
        self._full_repaint = False  # the next frame repaints every visible row
        self._last_layout = (0, 0, 0)  # _layout() at the last frame
        self._plain_rows: set[int] = set()  # rows drawn without colours, to repaint next frame
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # lets scroll() blit
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_frame)
        self.paint_count = 0  # frames painted since creation (count)
        self.follow = True  # keep the stream front in view until the user scrolls away
        self.clear()

    # ---- driving (the controller calls these) -------------------------------------------------
    def begin(self, original: str) -> StreamingDiff:
        """Start showing an edit of ``original`` (forgets any previous one); returns its diff."""
        self.clear()
        self._diff = StreamingDiff(original)
        self._max_chars = max((len(line) for line in self._diff.original_lines), default=0)
        self._apply(DiffUpdate(pending_start=0))
        return self._diff

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
        self._final_rows = _Runs()  # settled rows: only ever appended
        self._tail_rows = _Runs()  # unsettled rows, rebuilt each frame
        self._pending_start = 0  # first original line not reached yet
        self._redirects_unplaced: list[Redirect] = []
        self._states: dict[int, str] = {}  # hunk index -> ACCEPTED / REJECTED
        self._header_rows: dict[int, int] = {}  # final hunk index -> row index of its header
        self._current: int | None = None  # hunk the keys act on
        self._out_starts: list[int] = [0]  # char offset of each output line start
        self._draft_starts: list[int] = []  # start char of each draft span, for bisect
        self._max_chars = 0  # longest row seen (chars), for the horizontal scroll range
        self._unpainted_since: float | None = None  # oldest chunk not yet in a frame (s)
        self._frame_since: float | None = None  # oldest chunk in the frame awaiting paint (s)
        self._dirty = False
        self._latest = DiffUpdate()
        self._last_layout = (0, 0, 0)
        self._full_repaint = True
        self.follow = True
        self._mark_dirty()

    def set_language_for(self, path_or_name: str | None) -> str:
        self._lexer = LineLexer(lexer_for(path_or_name))
        self._pixmaps.clear()
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
            return self._final_rows.row(index, self._diff)
        index -= len(self._final_rows)
        if index < len(self._tail_rows):
            return self._tail_rows.row(index, self._diff)
        line = self._pending_start + index - len(self._tail_rows)
        return DiffRow("pending", self._diff.original_lines[line].rstrip("\n"), line, -1, -1, False)

    def _apply(self, update: DiffUpdate) -> None:
        out = self._diff.output_lines
        for line in out[len(self._out_starts) - 1:]:
            self._out_starts.append(self._out_starts[-1] + len(line))
            self._max_chars = max(self._max_chars, len(line))
        for segment in update.final_segments:
            self._add_segment(self._final_rows, segment, True, self._redirects_unplaced)
        for _hunk in update.new_final_hunks:
            self._advance_current()
        self._draft_starts += [span.out_start_char for span in update.new_draft_spans]
        self._latest = update
        self._mark_dirty()

    def _add_segment(self, runs: _Runs, segment: Segment, final: bool,
                     redirects: list[Redirect]) -> None:
        if segment.kind != "equal":
            if final:
                self._header_rows[segment.hunk] = len(runs)
            runs.add(_Run("header", 1, segment.orig_start, segment.out_start, segment.hunk, final))
            runs.add(_Run("removed", segment.orig_end - segment.orig_start, segment.orig_start, -1,
                          segment.hunk, final))
        kind = "context" if segment.kind == "equal" else "added"
        j = segment.out_start
        while j < segment.out_end:
            while redirects and redirects[0].out_line <= j:
                runs.add(self._redirect_run(redirects.pop(0), final))
            stop = segment.out_end
            if redirects and redirects[0].out_line < stop:
                stop = redirects[0].out_line
            orig_start = segment.orig_start + j - segment.out_start if kind == "context" else -1
            runs.add(_Run(kind, stop - j, orig_start, j, segment.hunk, final))
            j = stop

    @staticmethod
    def _redirect_run(redirect: Redirect, final: bool) -> _Run:
        return _Run("redirect", 1, -1, redirect.out_line, -1, final, redirect.instruction)

    def _append_redirects(self, before_line: int | None) -> None:
        while self._redirects_unplaced and (before_line is None
                                            or self._redirects_unplaced[0].out_line < before_line):
            self._final_rows.add(self._redirect_run(self._redirects_unplaced.pop(0), True))

    def _rebuild_tail(self) -> None:
        """The unsettled rows: a handful of runs however many lines they span."""
        update = self._latest
        redirects = list(self._redirects_unplaced)
        runs = _Runs()
        for segment in update.tentative_segments:
            self._add_segment(runs, segment, False, redirects)
        for redirect in redirects:
            runs.add(self._redirect_run(redirect, False))
        if update.partial_line:
            runs.add(_Run("partial", 1, -1, len(self._diff.output_lines), -1, False,
                          update.partial_line))
            self._max_chars = max(self._max_chars, len(update.partial_line))
        self._tail_rows = runs
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
        before = self._last_layout  # rows appended by feed() since then need painting too
        if self._diff is not None:
            self._rebuild_tail()
        else:
            self._tail_rows, self._pending_start = _Runs(), 0
        after = self._last_layout = self._layout()
        self._update_scrollbars()  # may scroll: the viewport blits the rows that only moved
        if self._full_repaint:
            self._full_repaint = False
            self.viewport().update()
            return
        # Settled rows never change, so only rows from the old settled end can differ; the pending
        # original below keeps its row positions when output and original advance together.
        first_changed = min(before[0], after[0])
        if before[0] + before[1] - before[2] != after[0] + after[1] - after[2]:
            last_changed = self.row_count() + 1
        else:
            last_changed = max(before[0] + before[1], after[0] + after[1]) + 1
        height, top_row = self.row_height(), self.verticalScrollBar().value()
        top = max(0, (first_changed - top_row) * height)
        bottom = min(self.viewport().height(), (last_changed - top_row) * height)
        if bottom > top:
            self.viewport().update(QRect(0, top, self.viewport().width(), bottom - top))
        for index in self._plain_rows:
            self.viewport().update(QRect(0, (index - top_row) * height, self.viewport().width(), height))
        self._plain_rows.clear()

    def _layout(self) -> tuple[int, int, int]:
        """(settled rows, unsettled rows, first pending original line)."""
        return len(self._final_rows), len(self._tail_rows), self._pending_start

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        viewport = self.viewport()
        if dx or abs(dy) * self.row_height() >= viewport.height():
            viewport.update()
        elif dy:
            viewport.scroll(0, dy * self.row_height())  # blit; Qt repaints only the exposed strip

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
        height = self.row_height()
        first = self.verticalScrollBar().value()
        rows: set[int] = set()
        for rect in event.region():
            painter.fillRect(rect, self._colour(self.theme.background))
            rows.update(range(first + rect.top() // height,
                              min(self.row_count(), first + rect.bottom() // height + 1)))
        metrics = self.fontMetrics()
        geometry = (height, self.viewport().width(), self._gutter_width(),
                    metrics.horizontalAdvance("x"), metrics.horizontalAdvance("9"),
                    self._gutter_width() - self.horizontalScrollBar().value())
        # Highlighting new lines has a per-frame budget; lines past it are drawn plain this frame
        # and coloured by the next one, so a burst of new rows never stalls the event loop.
        self._highlight_deadline_s = time.perf_counter() + HIGHLIGHT_BUDGET_S
        self._frame_incomplete = False
        for index in sorted(rows):
            self._frame_incomplete = False
            self._paint_row(painter, self._row(index), (index - first) * height, geometry)
            if self._frame_incomplete:
                self._plain_rows.add(index)
        painter.end()
        if self._plain_rows:
            self._mark_dirty()
        self.paint_count += 1
        if self._frame_since is not None:
            latency_ms = (time.perf_counter() - self._frame_since) * 1000.0
            self._frame_since = None
            self.framePainted.emit(latency_ms)

    _BACKGROUNDS = {"added": "added", "removed": "removed", "partial": "added"}
    _SIGNS = {"added": ("+", "#7ee787"), "removed": ("−", "#ffa198"), "partial": ("+", "#7ee787")}

    def _colour(self, name: str) -> QColor:
        colour = self._colours.get(name)
        if colour is None:
            colour = self._colours[name] = QColor(name)
        return colour

    def _paint_row(self, painter: QPainter, row: DiffRow, top: int, geometry: tuple) -> None:
        theme = self.theme
        height, width, gutter, char_w, digit_w, x0 = geometry
        if row.kind == "header":
            self._paint_header(painter, row, top)
            return
        if row.kind == "redirect":
            painter.fillRect(0, top, width, height, self._colour(theme.current_line))
            painter.setPen(self._colour(theme.redirect))
            painter.setFont(self._bold)
            painter.drawLine(0, top + height // 2, 12, top + height // 2)
            label = f"↪ redirected: {row.text}" if row.text else "↪ redirected"
            painter.drawText(16, top, width - 16, height, Qt.AlignmentFlag.AlignVCenter, label)
            painter.setFont(self._font)
            return
        background = self._BACKGROUNDS.get(row.kind)
        if background:
            painter.fillRect(0, top, width, height, self._colour(getattr(theme, background)))
        if self._draft_starts and row.out_line >= 0:
            self._paint_draft(painter, row, top, x0, char_w)
        painter.fillRect(0, top, digit_w * 12 + 8, height, self._colour(theme.gutter_background))
        if not row.final and row.kind in ("added", "removed"):
            painter.fillRect(0, top, 3, height, self._colour(theme.accent))  # still settling
        # Line numbers are right-aligned cached images: drawText per row is a frame's main cost.
        if row.orig_line >= 0:
            number = self._text_pixmap(str(row.orig_line + 1), theme.gutter_foreground)
            painter.drawPixmap(digit_w * 6 - self._pixmap_width(number), top, number)
        if row.out_line >= 0 and row.kind != "partial":
            number = self._text_pixmap(str(row.out_line + 1), theme.gutter_foreground)
            painter.drawPixmap(digit_w * 12 - self._pixmap_width(number), top, number)
        sign = self._SIGNS.get(row.kind)
        if sign:
            painter.drawPixmap(digit_w * 12 + 8 + digit_w // 2, top, self._text_pixmap(*sign))
        painter.setClipRect(gutter, top, width - gutter, height)
        x = x0
        if row.text:
            pixmap = self._text_pixmap(row.text, theme.pending if row.kind == "pending" else None)
            if pixmap is None:  # over this frame's highlighting budget
                self._frame_incomplete = True
                painter.setPen(self._colour(theme.foreground))
                metrics = self.fontMetrics()
                text = row.text.expandtabs(4)
                painter.drawText(x0, top + (height + metrics.ascent() - metrics.descent()) // 2, text)
                x += metrics.horizontalAdvance(text)
            else:
                painter.drawPixmap(x0, top, pixmap)
                x += self._pixmap_width(pixmap)
        if row.kind == "partial":  # the stream's cursor
            painter.fillRect(x + 1, top + 3, max(2, char_w // 2), height - 6, self._colour(theme.accent))
        painter.setClipping(False)

    @staticmethod
    def _pixmap_width(pixmap: QPixmap) -> int:
        return round(pixmap.width() / pixmap.devicePixelRatio())

    def _paint_draft(self, painter: QPainter, row: DiffRow, top: int, x0: int, char_w: int) -> None:
        start = self._out_starts[row.out_line] if row.out_line < len(self._out_starts) else 0
        end = start + len(row.text)
        spans = self._diff.draft_spans_view
        for k in range(max(0, bisect.bisect_right(self._draft_starts, start) - 1), len(spans)):
            span = spans[k]
            if span.out_start_char >= end:
                break
            a, b = max(start, span.out_start_char), min(end, span.out_end_char)
            if a < b:  # an underline: visible, yet quieter than a second background
                painter.fillRect(x0 + (a - start) * char_w, top + self.row_height() - 4,
                                 (b - a) * char_w, 3, self._colour(self.theme.draft))

    def _paint_header(self, painter: QPainter, row: DiffRow, top: int) -> None:
        theme, height, width = self.theme, self.row_height(), self.viewport().width()
        state = self._states.get(row.hunk)
        painter.fillRect(0, top, width, height, QColor(theme.gutter_background))
        if row.final and row.hunk == self._current:
            painter.setPen(QColor(theme.accent))
            painter.drawRect(1, top + 1, width - 3, height - 2)
        painter.setFont(self._bold)
        hunk = self._diff.hunk(row.hunk) if self._diff else None
        label = f"  hunk {row.hunk + 1} · line {row.orig_line + 1}"
        if hunk is not None:
            label += f" · −{hunk.orig_end - hunk.orig_start} +{len(hunk.new_lines)}"
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

    def _text_pixmap(self, text: str, colour: str | None = None) -> QPixmap | None:
        """The line's coloured text, rendered once and reused while it stays in view.

        Rows scroll by unchanged from frame to frame; drawing a cached pixmap instead of one
        drawText per token keeps a frame well inside its 16 ms.
        """
        key = (text, colour)
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if colour is None and time.perf_counter() > self._highlight_deadline_s:
            return None
        text = text.expandtabs(4)
        metrics, ratio = self.fontMetrics(), self.devicePixelRatioF()
        width = min(8000, max(1, metrics.horizontalAdvance(text) + 2))
        pixmap = QPixmap(int(width * ratio), int(self.row_height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setFont(self._font)
        baseline = (self.row_height() + metrics.ascent() - metrics.descent()) // 2
        if colour is not None:  # one colour, no syntax (pending original, numbers, signs)
            painter.setPen(QColor(colour))
            painter.drawText(0, baseline, text)
        else:
            x = 0
            for start, length, ttype in self._lexer.lex(text)[0]:
                part = text[start:start + length]
                painter.setPen(QColor(style_for(self.theme, ttype).color))
                painter.drawText(x, baseline, part)
                x += metrics.horizontalAdvance(part)
        painter.end()
        self._pixmaps[key] = pixmap
        if len(self._pixmaps) > PIXMAP_CACHE_ROWS:
            self._pixmaps.popitem(last=False)
        return pixmap

    # ---- input -------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        pos: QPoint = event.position().toPoint()
        index = self.verticalScrollBar().value() + pos.y() // self.row_height()
        if 0 <= index < len(self._final_rows):
            row = self._final_rows.row(index, self._diff)
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
