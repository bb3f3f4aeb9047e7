"""DiffPane: a proposed edit drawn as it grows, row by row, at most ~60 frames a second.

Inline unified view, painted row by row (only the visible rows are drawn, so a 2,000-line file costs
the same as a 20-line one). The rows come from `app.core.diff.rows` (settled rows are only ever appended;
the unsettled tail, the held-back partial line and the pending, greyed original are rebuilt each
frame) and are drawn by `app.qt.widgets.diffpaint`. Repaints happen on a ~60 Hz frame timer and only
when something changed, never per token; output after a pause (the first token) is painted at
once, before anything else queued on the window's thread. With no edit the pane shows what to do
and the keys. A notice banner may sit above the rows. The review on top (decisions, the current hunk, keys and buttons) is `LiveDiffView`'s.

Signals:
- ``noticeActionClicked(str)``: the button of the notice above the rows (its kind).
- ``framePainted(float)``: a frame showing new output was painted; the argument is the
  token-to-paint latency of the oldest chunk in it (ms). The first one after ``show_diff`` is the
  moment the first token became visible (client TTFT).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QRegion
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from app.core.diff.rows import DiffRow, DiffRows
from app.core.diff.stream import DiffUpdate, Redirect, StreamingDiff
from app.core.highlight import DARK, LineLexer, Theme, lexer_for
from app.qt.widgets.diffpaint import RowPainter, header_label
from app.qt.widgets.editor import DEFAULT_POINT_SIZE, monospace_font
from app.qt.widgets.notice_banner import NoticeBanner

FRAME_MS = 16  # frame timer period (ms): ~60 Hz


class DiffPane(QAbstractScrollArea):
    """See the module docstring for the signals."""

    framePainted = Signal(float)
    noticeActionClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None, theme: Theme = DARK,
                 point_size: int = DEFAULT_POINT_SIZE):
        super().__init__(parent)
        self.theme = theme
        self._painter = RowPainter(self, theme, monospace_font(point_size))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setAutoFillBackground(False)
        self._full_repaint = False  # the next frame repaints every visible row
        self._last_layout = (0, 0, 0)  # DiffRows.layout() at the last frame
        self._plain_rows: set[int] = set()  # rows drawn without colours, to repaint next frame
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # lets scroll() blit
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_frame)
        self._last_frame_s = 0.0  # perf_counter() of the last frame (s)
        self.paint_count = 0  # frames painted since creation (count)
        self.notice = NoticeBanner(self)  # stays above the rows until the next edit
        self.notice.actionClicked.connect(self.noticeActionClicked)
        self.notice.closed.connect(self._place_notice)
        self.footer: QWidget | None = None  # a strip under the rows (LiveDiffView: the legend)
        self.follow = True  # keep the stream front in view until the user scrolls away
        self.clear()
        self.setFont(self._painter.font)

    # ---- driving: the controller owns the diff and passes each change -------------------------
    def show_diff(self, diff: StreamingDiff) -> None:
        """Show ``diff`` (forgets any previous one); its owner feeds it and passes each update on."""
        self.clear()
        self._diff = diff
        self._rows = DiffRows(diff)
        self._apply(DiffUpdate(pending_start=0))
        self._full_repaint = True  # the empty-state hint goes

    def apply_update(self, update: DiffUpdate, fed: bool = True) -> None:
        """The shown diff changed by ``update``; ``fed``: new output arrived (timed to its paint)."""
        if self._diff is None:
            raise RuntimeError("apply_update() before show_diff()")
        first = self._unpainted_since is None and fed
        if first:
            self._unpainted_since = time.perf_counter()
        self._apply(update)
        if first and self._unpainted_since - self._last_output_s >= FRAME_MS / 1000.0:
            # Output after a pause (the first token above all) is painted now, not at the frame
            # timer's next tick nor after what the window's thread has queued meanwhile (the rest of
            # the engine's batch, other widgets' repaints): frames stay at most ~60 per second.
            self._on_frame(now=True)
        if update.done:  # the output is complete (or was stopped): every hunk settled
            self._rows.place_redirects()
            self._output_done()

    def show_redirect(self, redirect: Redirect) -> None:
        """A redirect marker was placed in the shown diff."""
        self._rows.mark_redirect(redirect)
        self._mark_dirty()

    # ---- a diff of its own, for panes without a controller (race lanes, replays, tools) ---------
    def begin(self, original: str) -> StreamingDiff:
        """Show a new diff of ``original``, fed through ``feed``; returns it."""
        diff = StreamingDiff(original)
        self.show_diff(diff)
        return diff

    def feed(self, chunk: str, draft_tokens: int = 0) -> None:
        if self._diff is None:
            raise RuntimeError("feed() before begin()")
        self.apply_update(self._diff.feed(chunk, draft_tokens), fed=bool(chunk))

    def mark_redirect(self, instruction: str) -> None:
        if self._diff is None:
            raise RuntimeError("mark_redirect() before begin()")
        self.show_redirect(self._diff.mark_redirect(instruction))

    def finish(self, stopped: bool = False) -> None:
        """The output is complete (or was stopped): settle every hunk."""
        if self._diff is not None:
            self.apply_update(self._diff.finish(stopped), fed=False)

    def clear(self) -> None:
        self._diff: StreamingDiff | None = None
        self._rows = DiffRows(None)
        self._unpainted_since: float | None = None  # oldest chunk not yet in a frame (s)
        self._frame_since: float | None = None  # oldest chunk in the frame awaiting paint (s)
        self._last_output_s = 0.0  # perf_counter() of the last frame that showed new output (s)
        self._dirty = False
        self._last_layout = (0, 0, 0)
        self._full_repaint = True
        self.follow = True
        self._painter.mark_problem(-1)
        self._mark_dirty()

    def show_notice(self, kind: str, text: str, action: str = "") -> None:
        self.notice.show_notice(kind, text, action)
        self._place_notice()

    def clear_notice(self) -> None:
        self.notice.clear()
        self._place_notice()

    def _place_notice(self) -> None:
        """The banner takes the top of the pane and the footer its bottom; the rows go between."""
        frame = self.frameWidth()
        width = self.width() - 2 * frame
        height = footer_h = 0
        if self.notice.isVisibleTo(self):
            height = max(self.notice.heightForWidth(width), self.notice.minimumSizeHint().height())
            self.notice.setGeometry(frame, frame, width, height)
        if self.footer is not None and self.footer.isVisibleTo(self):
            footer_h = self.footer.heightForWidth(self.viewport().width())  # beside the scroll bar
        self.setViewportMargins(0, height, 0, footer_h)
        if footer_h:
            rows = self.viewport().geometry()
            self.footer.setGeometry(rows.left(), rows.bottom() + 1, rows.width(), footer_h)
        self._update_scrollbars()

    def set_problem_line(self, out_line: int) -> None:
        """Mark the output line where the edited code stops parsing (-1: none)."""
        self._painter.mark_problem(out_line)
        self._full_repaint = True
        self._mark_dirty()

    def set_first_line(self, line: int) -> None:
        """Number rows as the file does: the edit starts at file line ``line`` (1-based).

        The edit covers a target inside the file; numbering from 1 would make "line 2" of the
        diff a different line from the editor's line 2. Kept across ``begin`` (a redirect)."""
        self._painter.number_from(max(1, int(line)))
        self._full_repaint = True
        self._mark_dirty()

    def set_language_for(self, path_or_name: str | None) -> str:
        lexer = LineLexer(lexer_for(path_or_name))
        self._painter.set_lexer(lexer)
        self.viewport().update()
        return lexer.name

    @property
    def diff(self) -> StreamingDiff | None:
        return self._diff

    # ---- rows ------------------------------------------------------------------------------------
    def rows(self) -> list[DiffRow]:
        """Every row top to bottom (materialises the pending original; for tests and tools)."""
        return [self._rows.row(i) for i in range(self.row_count())]

    def row_count(self) -> int:
        return len(self._rows)

    def _apply(self, update: DiffUpdate) -> None:
        self._rows.apply(update)
        if update.new_final_hunks:
            self._hunks_settled()
        self._mark_dirty()

    # ---- frames ----------------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def _on_frame(self, now: bool = False) -> None:
        """Repaint what changed since the last frame: at the next paint, or at once (``now``)."""
        if not self._dirty:
            self._timer.stop()
            return
        self._dirty = False
        self._last_frame_s = time.perf_counter()
        if self._unpainted_since is not None:
            if self._frame_since is None:
                self._frame_since = self._unpainted_since
            self._unpainted_since = None
            self._last_output_s = self._last_frame_s
        before = self._last_layout  # rows appended by feed() since then need painting too
        if self._diff is not None:
            self._rows.rebuild_tail()
        after = self._last_layout = self._rows.layout()
        scrolled_from = self.verticalScrollBar().value()
        self._update_scrollbars()  # may scroll: the viewport blits the rows that only moved
        viewport = self.viewport()
        if self._full_repaint or (now and self.verticalScrollBar().value() != scrolled_from):
            self._full_repaint = False
            self._plain_rows.clear()
            viewport.repaint() if now else viewport.update()
            return
        # Settled rows never change, so only rows from the old settled end can differ; the pending
        # original below keeps its row positions when output and original advance together.
        first_changed = min(before[0], after[0])
        if before[0] + before[1] - before[2] != after[0] + after[1] - after[2]:
            last_changed = self.row_count() + 1
        else:
            last_changed = max(before[0] + before[1], after[0] + after[1]) + 1
        height, top_row, width = self.row_height(), self.verticalScrollBar().value(), viewport.width()
        top = max(0, (first_changed - top_row) * height)
        bottom = min(viewport.height(), (last_changed - top_row) * height)
        changed = QRegion(QRect(0, top, width, bottom - top)) if bottom > top else QRegion()
        for index in self._plain_rows:
            changed += QRect(0, (index - top_row) * height, width, height)
        self._plain_rows.clear()
        if not changed.isEmpty():
            viewport.repaint(changed) if now else viewport.update(changed)

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        viewport = self.viewport()
        if dx or abs(dy) * self.row_height() >= viewport.height():
            viewport.update()
        elif dy:
            viewport.scroll(0, dy * self.row_height())  # blit; Qt repaints only the exposed strip

    def row_height(self) -> int:
        return self._painter.row_height()

    def _gutter_width(self) -> int:
        # old and new line numbers (6 columns each), a sign column, padding
        return self._painter.metrics.horizontalAdvance("9") * 14 + 14

    def _update_scrollbars(self) -> None:
        visible = max(1, self.viewport().height() // self.row_height())
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, self.row_count() - visible))
        bar.setPageStep(visible)
        char_w = self._painter.metrics.horizontalAdvance("x")
        width = self._rows.max_chars * char_w + self._gutter_width()
        self.horizontalScrollBar().setRange(0, max(0, width - self.viewport().width() + 20))
        self.horizontalScrollBar().setPageStep(self.viewport().width())
        if self.follow:
            bar.setValue(max(0, min(bar.maximum(), self._rows.front - visible * 2 // 3)))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_notice()

    def wheelEvent(self, event) -> None:  # noqa: N802
        super().wheelEvent(event)
        front = self._rows.front
        bar = self.verticalScrollBar()
        # Scrolling away from the stream front stops following; scrolling back resumes it.
        self.follow = bar.value() <= front <= bar.value() + bar.pageStep()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        # Presentation mode sets a larger font: rows, numbers and cached line images follow it.
        if event.type() == QEvent.Type.FontChange:
            self._painter.set_font(self.font())
            self._full_repaint = True
            self._update_scrollbars()
            self._mark_dirty()
        super().changeEvent(event)

    # ---- scrolling to a change, painting ---------------------------------------------------------
    def scroll_to_hunk(self, hunk: int) -> None:
        row = self._rows.header_rows.get(hunk)
        if row is not None:
            self.follow = False
            self.verticalScrollBar().setValue(max(0, row - 2))
            self.reveal_change(hunk)

    def change_columns(self, hunk: int) -> tuple[int, int] | None:
        """(first, last) character column where the hunk's first removed and added lines differ."""
        return self._rows.change_columns(hunk)

    def reveal_change(self, hunk: int) -> None:
        """Scroll sideways so the changed part of a long line is on screen (lines do not wrap)."""
        cols = self.change_columns(hunk)
        if cols is None:
            return
        self._update_scrollbars()  # the range must know the rows that arrived since the last frame
        char_w = self._painter.metrics.horizontalAdvance("x")
        text_w = self.viewport().width() - self._gutter_width()
        first_x, end_x = cols[0] * char_w, cols[1] * char_w
        bar = self.horizontalScrollBar()
        if first_x >= bar.value() and min(end_x, first_x + text_w * 2 // 3) <= bar.value() + text_w:
            return  # already visible
        bar.setValue(max(0, first_x - text_w // 3))

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self.viewport())
        if self._diff is None:
            self._painter.paint_empty(painter, self.viewport().rect())
            painter.end()
            return
        height = self.row_height()
        first = self.verticalScrollBar().value()
        rows: set[int] = set()
        for rect in event.region():
            painter.fillRect(rect, self._painter.colour(self.theme.background))
            rows.update(range(first + rect.top() // height,
                              min(self.row_count(), first + rect.bottom() // height + 1)))
        metrics = self._painter.metrics
        geometry = (height, self.viewport().width(), self._gutter_width(),
                    metrics.horizontalAdvance("x"), metrics.horizontalAdvance("9"),
                    self._gutter_width() - self.horizontalScrollBar().value())
        self._painter.start_frame()
        for index in sorted(rows):
            row = self._rows.row(index)
            top = (index - first) * height
            if row.kind == "header":
                self._paint_header(painter, row, top)
                continue
            self._painter.paint_row(painter, row, top, geometry, self._rows)
            if self._painter.row_incomplete:
                self._plain_rows.add(index)
        painter.end()
        if self._plain_rows:
            self._mark_dirty()
        self.paint_count += 1
        if self._frame_since is not None:
            latency_ms = (time.perf_counter() - self._frame_since) * 1000.0
            self._frame_since = None
            self.framePainted.emit(latency_ms)

    def header_label(self, row: DiffRow) -> str:
        """What a hunk's header row says: where it is in the file, its size, its state."""
        hunk = self._diff.hunk(row.hunk) if self._diff else None
        return header_label(row, hunk, self._painter.first_line, self._painter.problem_line,
                            self._header_state(row.hunk))

    def _paint_header(self, painter: QPainter, row: DiffRow, top: int) -> None:
        current = row.final and self._is_current(row.hunk)
        self._painter.paint_header(painter, row, top, self.viewport().width(), self.header_label(row),
                                   self._header_state(row.hunk), current)

    # ---- what a subclass adds (LiveDiffView: the review) -----------------------------------------
    def _hunks_settled(self) -> None:
        """New hunks became final (their header rows exist)."""

    def _output_done(self) -> None:
        """The output is complete (or was stopped): every hunk is settled."""

    def _header_state(self, hunk: int) -> str | None:
        """The decision shown on a hunk's header (None: undecided, its buttons show)."""
        return None

    def _is_current(self, hunk: int) -> bool:
        """The hunk the keys act on (its header is outlined)."""
        return False
