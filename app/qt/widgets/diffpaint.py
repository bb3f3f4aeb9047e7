"""How the live-diff pane draws its rows: cached line images, hunk headers, the empty-state hint.

`RowPainter` belongs to one `LiveDiffView` and draws with its font and theme; it holds no diff
state of its own beyond caches, so the view stays the only owner of what is shown.
"""

from __future__ import annotations

import bisect
import time
from collections import OrderedDict

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from app.core.diff.rows import DiffRow, DiffRows
from app.core.diff.stream import Hunk
from app.core.edit.states import HunkState
from app.core.highlight import LineLexer, Theme, lexer_for, style_for

HIGHLIGHT_BUDGET_S = 0.004  # time a frame may spend colouring new lines (s)
PIXMAP_CACHE_ROWS = 1200  # rendered lines and numbers kept (a few screens' worth; ~40 KB each)
BUTTON_MARGIN_PX = 8  # gap between the review buttons and the pane's right edge
BUTTON_GAP_PX = 10  # gap between the Accept and Reject buttons

# Review buttons: the full labels name the key too; a narrow pane gets the short ones.
BUTTON_LABELS = (("✓ Accept  A", "✗ Reject  R"), ("✓ A", "✗ R"))
BUTTON_COLOURS = ("#2ea043", "#da3633")
PROBLEM_COLOUR = "#f85149"  # the line where the edited code stops parsing

# What the idle pane says: the whole workflow in three steps and the keys, readable from afar.
EMPTY_TITLE = "Select code, press Ctrl+K, type an instruction"
EMPTY_STEPS = (
    ("Enter", "sends it; the edit streams in here as a live diff"),
    ("Esc", "stops; Enter again redirects mid-stream"),
    ("A / R", "accepts / rejects the current change (J / K move)"),
    ("Ctrl+Enter", "accepts every change"),
)

_BACKGROUNDS = {"added": "added", "removed": "removed", "partial": "added"}
# The sign column's mark and colour per row kind (the diff legend shows the same ones).
SIGNS = {"added": ("+", "#7ee787"), "removed": ("−", "#ffa198"), "partial": ("+", "#7ee787")}


class RowPainter:
    """Paints `DiffRow`s for one view; see the module docstring."""

    def __init__(self, view: QWidget, theme: Theme, font: QFont):
        self.view = view
        self.theme = theme
        self.lexer = LineLexer(lexer_for("python"))
        self._pixmaps: OrderedDict[tuple[str, str | None], QPixmap] = OrderedDict()  # LRU images
        self._colours: dict[str, QColor] = {}
        self._highlight_deadline_s = 0.0  # this frame's highlighting budget ends (perf_counter s)
        self.row_incomplete = False  # the last row painted was drawn plain (over budget)
        self.first_line = 1  # the file's line number of the edit's first line, for the gutter
        self.problem_line = -1  # output line where the edited code stops parsing (-1: none)
        self.set_font(font)

    def number_from(self, first_line: int) -> None:
        """Number the rows from the file's line ``first_line`` (the edit's first line)."""
        self.first_line = first_line

    def mark_problem(self, out_line: int) -> None:
        """Mark the output line where the edited code stops parsing (-1: none)."""
        self.problem_line = out_line

    def set_font(self, font: QFont) -> None:
        self.font = QFont(font)
        self.bold = QFont(font)
        self.bold.setBold(True)
        self.metrics = QFontMetrics(self.font)  # asked for on every row: built once per font
        self._pixmaps.clear()

    def set_lexer(self, lexer: LineLexer) -> None:
        self.lexer = lexer
        self._pixmaps.clear()

    def start_frame(self) -> None:
        # Highlighting new lines has a per-frame budget; lines past it are drawn plain this frame
        # and coloured by the next one, so a burst of new rows never stalls the event loop.
        self._highlight_deadline_s = time.perf_counter() + HIGHLIGHT_BUDGET_S

    def colour(self, name: str) -> QColor:
        colour = self._colours.get(name)
        if colour is None:
            colour = self._colours[name] = QColor(name)
        return colour

    def row_height(self) -> int:
        return self.metrics.height() + 4

    # ---- rows -------------------------------------------------------------------------------
    def paint_row(self, painter: QPainter, row: DiffRow, top: int, geometry: tuple,
                  rows: DiffRows) -> None:
        theme = self.theme
        height, width, gutter, char_w, digit_w, x0 = geometry
        self.row_incomplete = False
        if row.kind == "redirect":
            painter.fillRect(0, top, width, height, self.colour(theme.current_line))
            painter.setPen(self.colour(theme.redirect))
            painter.setFont(self.bold)
            painter.drawLine(0, top + height // 2, 12, top + height // 2)
            label = f"↪ redirected: {row.text}" if row.text else "↪ redirected"
            painter.drawText(16, top, width - 16, height, Qt.AlignmentFlag.AlignVCenter, label)
            painter.setFont(self.font)
            return
        background = _BACKGROUNDS.get(row.kind)
        if background:
            painter.fillRect(0, top, width, height, self.colour(getattr(theme, background)))
        if rows.draft_starts and row.out_line >= 0:
            self._paint_draft(painter, row, top, x0, char_w, rows)
        painter.fillRect(0, top, digit_w * 12 + 8, height, self.colour(theme.gutter_background))
        if not row.final and row.kind in ("added", "removed"):
            painter.fillRect(0, top, 3, height, self.colour(theme.accent))  # still settling
        # Line numbers are right-aligned cached images: drawText per row is a frame's main cost.
        if row.orig_line >= 0:
            number = self.text_pixmap(str(row.orig_line + self.first_line), theme.gutter_foreground)
            painter.drawPixmap(digit_w * 6 - pixmap_width(number), top, number)
        if row.out_line >= 0 and row.kind != "partial":
            number = self.text_pixmap(str(row.out_line + self.first_line), theme.gutter_foreground)
            painter.drawPixmap(digit_w * 12 - pixmap_width(number), top, number)
        sign = SIGNS.get(row.kind)
        if sign:
            painter.drawPixmap(digit_w * 12 + 8 + digit_w // 2, top, self.text_pixmap(*sign))
        painter.setClipRect(gutter, top, width - gutter, height)
        x = x0
        if row.text:
            pixmap = self.text_pixmap(row.text, theme.pending if row.kind == "pending" else None)
            if pixmap is None:  # over this frame's highlighting budget
                self.row_incomplete = True
                painter.setPen(self.colour(theme.foreground))
                metrics = self.metrics
                text = row.text.expandtabs(4)
                painter.setFont(self.font)
                painter.drawText(x0, top + (height + metrics.ascent() - metrics.descent()) // 2, text)
                x += metrics.horizontalAdvance(text)
            else:
                painter.drawPixmap(x0, top, pixmap)
                x += pixmap_width(pixmap)
        if row.out_line == self.problem_line and row.kind in ("added", "context"):
            self._paint_problem(painter, top, height, x0, max(x, x0 + char_w * 4))
        if row.kind == "partial":  # the stream's cursor
            painter.fillRect(x + 1, top + 3, max(2, char_w // 2), height - 6, self.colour(theme.accent))
        painter.setClipping(False)

    def _paint_problem(self, painter: QPainter, top: int, height: int, x0: int, x_end: int) -> None:
        """The line where the edit stops parsing: a red edge and a wavy underline, as editors mark errors."""
        red = self.colour(PROBLEM_COLOUR)
        painter.setClipping(False)
        painter.fillRect(0, top, 4, height, red)
        painter.setPen(QPen(red, 1.5))
        y, step = top + height - 3, 3
        points = [QPointF(x, y - (step / 2 if (x - x0) // step % 2 else 0)) for x in range(x0, x_end + 1, step)]
        if len(points) > 1:
            painter.drawPolyline(points)

    def _paint_draft(self, painter: QPainter, row: DiffRow, top: int, x0: int, char_w: int,
                     rows: DiffRows) -> None:
        starts = rows.out_starts
        start = starts[row.out_line] if row.out_line < len(starts) else 0
        end = start + len(row.text)
        spans = rows.diff.draft_spans_view
        for k in range(max(0, bisect.bisect_right(rows.draft_starts, start) - 1), len(spans)):
            span = spans[k]
            if span.out_start_char >= end:
                break
            a, b = max(start, span.out_start_char), min(end, span.out_end_char)
            if a < b:  # an underline: visible, yet quieter than a second background
                painter.fillRect(x0 + (a - start) * char_w, top + self.row_height() - 4,
                                 (b - a) * char_w, 3, self.colour(self.theme.draft))

    # ---- hunk headers -----------------------------------------------------------------------
    def button_geometry(self, top: int, width: int) -> tuple[QRect, QRect, int]:
        """Accept and Reject rectangles of a header row at ``top``, and which label set fits.

        The buttons are right-aligned to the pane so they stay on screen however narrow it is;
        below the width where the full labels leave room for a typical hunk label, they shrink.
        """
        metrics = QFontMetrics(self.bold)
        height = self.row_height() - 2
        label_room = metrics.horizontalAdvance("  hunk 10 · line 100 · −10 +10")
        for labels_index, labels in enumerate(BUTTON_LABELS):
            button_w = max(metrics.horizontalAdvance(text) for text in labels) + 20
            needed = label_room + 2 * button_w + BUTTON_GAP_PX + BUTTON_MARGIN_PX
            if needed <= width or labels_index == len(BUTTON_LABELS) - 1:
                break
        reject_x = max(button_w + BUTTON_GAP_PX, width - BUTTON_MARGIN_PX - button_w)
        accept_x = reject_x - BUTTON_GAP_PX - button_w
        return (QRect(accept_x, top + 1, button_w, height),
                QRect(reject_x, top + 1, button_w, height), labels_index)

    def paint_header(self, painter: QPainter, row: DiffRow, top: int, width: int,
                     label: str, state: str | None, current: bool) -> None:
        theme, height = self.theme, self.row_height()
        painter.fillRect(0, top, width, height, self.colour(theme.gutter_background))
        if current:
            painter.setPen(self.colour(theme.accent))
            painter.drawRect(1, top + 1, width - 3, height - 2)
        painter.setFont(self.bold)
        buttons = row.final and not state
        accept, reject, labels_index = self.button_geometry(top, width)
        room = (accept.left() - 16 if buttons else width - 16)
        label = QFontMetrics(self.bold).elidedText(label, Qt.TextElideMode.ElideRight, max(0, room))
        painter.setPen(self.colour(theme.foreground if row.final else theme.pending))
        painter.drawText(8, top, max(0, room), height, Qt.AlignmentFlag.AlignVCenter, label)
        if buttons:
            for rect, text, colour in zip((accept, reject), BUTTON_LABELS[labels_index], BUTTON_COLOURS):
                painter.setBrush(self.colour(colour))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.drawRoundedRect(rect, 5, 5)
                painter.setPen(self.colour("#ffffff"))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setFont(self.font)

    # ---- the idle pane ----------------------------------------------------------------------
    def paint_empty(self, painter: QPainter, area: QRect) -> None:
        """The hint shown while there is no edit: what to do, and the keys for it."""
        painter.fillRect(area, self.colour(self.theme.background))
        margin = max(12, min(48, area.width() // 16))
        text_w = area.width() - 2 * margin
        if text_w <= 0:
            return
        title_font = QFont(self.view.font())
        title_font.setFamily("Sans Serif")
        title_font.setPointSizeF(self.font.pointSizeF() * 1.25)
        title_font.setBold(True)
        body_font = QFont(title_font)
        body_font.setBold(False)
        body_font.setPointSizeF(self.font.pointSizeF())
        key_font = QFont(self.bold)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
        y = area.top() + max(margin, area.height() // 5)
        painter.setFont(title_font)
        painter.setPen(self.colour(self.theme.foreground))
        title = painter.boundingRect(QRect(margin, y, text_w, 10_000), flags, EMPTY_TITLE)
        painter.drawText(title, flags, EMPTY_TITLE)
        y = title.bottom() + QFontMetrics(body_font).height()
        key_w = max(QFontMetrics(key_font).horizontalAdvance(k) for k, _ in EMPTY_STEPS) + 16
        if key_w > text_w // 2:  # too narrow for two columns: keys above their meaning
            key_w = 0
        for key, meaning in EMPTY_STEPS:
            painter.setFont(key_font)
            painter.setPen(self.colour(self.theme.accent))
            key_rect = painter.boundingRect(QRect(margin, y, text_w, 10_000), flags, key)
            painter.drawText(key_rect, flags, key)
            if not key_w:
                y = key_rect.bottom() + 1
            painter.setFont(body_font)
            painter.setPen(self.colour(self.theme.foreground))  # grey washes out on a projector
            body = painter.boundingRect(QRect(margin + key_w, y, text_w - key_w, 10_000), flags, meaning)
            painter.drawText(body, flags, meaning)
            y = max(body.bottom(), key_rect.bottom()) + QFontMetrics(body_font).height() // 2
        painter.setFont(self.font)

    # ---- cached line images -----------------------------------------------------------------
    def text_pixmap(self, text: str, colour: str | None = None) -> QPixmap | None:
        """The line's coloured text, rendered once and reused while it stays in view.

        Rows scroll by unchanged from frame to frame; drawing a cached pixmap instead of one
        drawText per token keeps a frame well inside its 16 ms. None when colouring would
        overrun this frame's budget (the caller draws the line plain).
        """
        key = (text, colour)
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
            return pixmap
        if colour is None and time.perf_counter() > self._highlight_deadline_s:
            return None
        text = text.expandtabs(4)
        metrics, ratio = self.metrics, self.view.devicePixelRatioF()
        width = min(8000, max(1, metrics.horizontalAdvance(text) + 2))
        pixmap = QPixmap(int(width * ratio), int(self.row_height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setFont(self.font)
        baseline = (self.row_height() + metrics.ascent() - metrics.descent()) // 2
        if colour is not None:  # one colour, no syntax (pending original, numbers, signs)
            painter.setPen(QColor(colour))
            painter.drawText(0, baseline, text)
        else:
            x = 0
            for start, length, ttype in self.lexer.lex(text)[0]:
                part = text[start:start + length]
                painter.setPen(QColor(style_for(self.theme, ttype).color))
                painter.drawText(x, baseline, part)
                x += metrics.horizontalAdvance(part)
        painter.end()
        self._pixmaps[key] = pixmap
        if len(self._pixmaps) > PIXMAP_CACHE_ROWS:
            self._pixmaps.popitem(last=False)
        return pixmap


def pixmap_width(pixmap: QPixmap) -> int:
    return round(pixmap.width() / pixmap.devicePixelRatio())


def header_label(row: DiffRow, hunk: Hunk | None, first_line: int, problem_line: int, state: str | None) -> str:
    """What a hunk's header row says: where it is in the file, its size, its state.

    ``first_line``: the file's line number of the edit's first line; ``problem_line``: the output
    line where the edited code stops parsing (-1: none); ``state``: the decision shown (None: none)."""
    label = f"  hunk {row.hunk + 1} · line {row.orig_line + first_line}"
    if hunk is not None:
        label += f" · −{hunk.orig_end - hunk.orig_start} +{len(hunk.new_lines)}"
        if problem_line >= 0 and hunk.out_start <= problem_line < hunk.out_start + len(hunk.new_lines):
            label = "  ⚠" + label + " · does not parse"  # the sign first: a narrow pane elides the end
    if not row.final:
        label += " · streaming…"
    elif state:
        label += " · " + ("✓ accepted" if state == HunkState.ACCEPTED else "✗ rejected")
    return label
