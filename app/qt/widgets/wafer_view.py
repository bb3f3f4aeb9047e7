"""The wafer view: the tile grid with its layer regions, lit up as each token flows through.

A passive view. It takes the plain dicts of the engine's `tiles` messages and paints them; it
emits no signals and knows nothing of the engine beyond those dicts:
- `set_layout(layout)`: grid size in cells, wafers, regions as cell rectangles, labels;
- `show_frame(frame)`: emulated time, phase, current layer, active region ids and their levels;
  for a mixture of experts, the experts the current token was routed to (an expert strip with a
  legend under the grid, see expert_panel.py).
Built to be read from the back of a room: dark background, bright active regions, large text.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.core import wafer_captions as captions
from app.core import wafer_geometry as geometry
from app.qt.widgets import expert_panel

BACKGROUND = QColor("#0d1017")
WAFER_FILL = QColor("#1a2030")
WAFER_EDGE = QColor("#39435a")
GRID_LINE = QColor(255, 255, 255, 14)
TEXT = QColor("#f2f4f8")
TEXT_DIM = QColor("#a9b3c7")
ACTIVE = QColor("#ffc933")  # the layer the token is in now
VOCAB = QColor("#2f6f62")  # embedding / LM head tables
_KIND_LABEL = {"embed": "embed", "head": "head", "vocab": "vocab", "gpu": "GPU"}
# Body text never gets smaller than this (px), however narrow the gauge column: smaller text is
# unreadable on a projector. The grid shrinks instead; it stays readable as a picture.
MIN_BODY_PX = 16
SUBTITLE_LINES = 3  # the subtitle wraps rather than cutting its figures off
TITLE_LINES = 2  # hardware names such as "8x NVIDIA H100 SXM (NVLink)" wrap too
FOOTER_LINES = 2  # and so does the status line under the grid
EXPERT_SHARE = 0.42  # share of the picture's height the expert strip takes for an MoE model
# The grid (and expert strip) keeps at least this share of the view's height, and never less than
# MIN_GRID_PX: text lines beyond one title, one subtitle and one status line give way first (their
# least telling details are cut). Large presentation text once left the grid a thin strip.
GRID_SHARE = 0.3
MIN_GRID_PX = 80


def _layer_color(layer: int, layers: int) -> QColor:
    """Inactive layers: a calm blue-to-violet ramp along the pipeline, dark enough to let the active one shout."""
    share = layer / max(1, layers - 1)
    return QColor.fromHsvF(0.58 + 0.17 * share, 0.55, 0.42)


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    t = max(0.0, min(1.0, t))
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


_int = captions.as_int


class WaferView(QWidget):
    """Paints an emulated wafer (or GPU node) layout and the activity frames of a request."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._layout: dict | None = None
        self._regions: list[dict] = []
        self._levels: dict[int, float] = {}
        self._frame: dict = {}
        self._message = "No emulation"
        self._rects: dict[int, QRectF] = {}
        self._scale = 1.0  # text size factor (presentation mode)
        self._experts: dict[int, float] = {}  # expert id -> brightness 0..1 for the current token
        self._shared_on = 0.0  # brightness of the shared expert
        self.drawn_text: list[str] = []  # the text lines of the last paint, top to bottom

    # --- input --------------------------------------------------------------------------------
    def set_layout(self, layout: dict | None) -> None:
        """Show a new layout (None clears). Malformed input shows a message instead of a grid."""
        self._levels, self._frame, self._rects = {}, {}, {}
        self._layout, self._regions = None, []
        self._experts, self._shared_on = {}, 0.0
        if not layout:
            self._message = "No emulation"
        elif not isinstance(layout, dict) or not isinstance(layout.get("grid"), dict):
            self._message = "Unreadable wafer layout"
        elif layout.get("kind") == "local" or not layout.get("regions"):
            self._message = "This machine: no emulation, tokens as computed"
            self._layout = layout
        else:
            regions = [r for r in layout.get("regions", []) if isinstance(r, dict) and "id" in r]
            if not regions or _int(layout["grid"].get("cols")) <= 0 or _int(layout["grid"].get("rows")) <= 0:
                self._message = "Unreadable wafer layout"
            else:
                self._layout, self._regions, self._message = layout, regions, ""
        self.update()

    def show_frame(self, frame: dict | None) -> None:
        """Light the frame's active regions; a malformed frame is ignored."""
        if not isinstance(frame, dict):
            return
        active, levels = frame.get("active") or [], frame.get("levels") or []
        if not isinstance(active, list) or not isinstance(levels, list):
            return
        self._levels = {}
        for i, rid in enumerate(active):
            level = levels[i] if i < len(levels) and isinstance(levels[i], (int, float)) else 1.0
            self._levels[_int(rid, -1)] = float(level)
        self._frame = frame
        routed = frame.get("experts")
        if isinstance(routed, list):
            level = 0.6 if frame.get("phase") == "prefill" else 1.0
            self._experts = {_int(e, -1): level for e in routed}
            self._shared_on = level
        elif frame.get("phase") in ("decode", "hop", "host"):  # a dense layer: the last routing fades
            self._experts = {e: min(v, expert_panel.FADED) for e, v in self._experts.items()}
            self._shared_on = min(self._shared_on, expert_panel.FADED)
        self.update()

    def expert_levels(self) -> dict[int, float]:
        """Brightness of each lit expert tile (empty for a dense model or before routing)."""
        return dict(self._experts)

    def clear(self, message: str = "No emulation") -> None:
        """Drop the layout; `message` says what will appear instead."""
        self._levels, self._frame, self._rects = {}, {}, {}
        self._layout, self._regions = None, []
        self._experts, self._shared_on = {}, 0.0
        self._message = message
        self.update()

    def set_scale(self, scale: float) -> None:
        """Scale the text (presentation mode makes everything larger)."""
        self._scale = float(scale)
        self.update()

    # --- geometry -----------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(460, 420)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        """Room for one title, subtitle and status line at the smallest text size, and the grid."""
        body = MIN_BODY_PX * self._scale
        text = body * 1.25 * 1.2 * 1.05 + 2 * body * 1.2 + 2 * 0.35 * body * 1.2
        return QSize(220, max(200, round(2 * 8 + text + MIN_GRID_PX)))

    def _fonts(self) -> tuple[QFont, QFont, QFont]:
        # Presentation mode raises the smallest size; text already grown with the view stays as it is,
        # or a large column would spend its height on words and leave the grid a strip.
        base = max(MIN_BODY_PX * self._scale, min(self.width() / 26.0, self.height() / 17.0))
        title = QFont(self.font())
        title.setPixelSize(round(base * 1.25))
        title.setBold(True)
        body = QFont(self.font())
        body.setPixelSize(round(base))
        small = QFont(self.font())
        small.setPixelSize(max(12, round(base * 0.8)))
        small.setBold(True)
        return title, body, small

    def body_px(self) -> int:
        """Pixel size of the subtitle and status text as painted now."""
        return self._fonts()[1].pixelSize()

    def status_text(self) -> str:
        """The line the view shows under the grid, or its message when there is no grid."""
        return self._status() if self._layout is not None and self._regions else self._message

    def grid_rect(self) -> QRectF | None:
        """The area the regions were last painted in, in widget coordinates (None: no grid shown)."""
        area = None
        for rect in self._rects.values():
            area = QRectF(rect) if area is None else area.united(rect)
        return area

    def region_rect(self, region_id: int) -> QRectF | None:
        """Where region `region_id` was last painted, in widget coordinates (None if not shown)."""
        return self._rects.get(region_id)

    # --- painting -----------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), BACKGROUND)
        self.drawn_text = []
        title, body, small = self._fonts()
        margin = max(8.0, self.width() / 40.0)
        title_lines, subtitle_lines, footer_lines = self._line_budget(title, body, margin)
        top = self._paint_header(painter, title, body, margin, title_lines, subtitle_lines)
        bottom = self._paint_footer(painter, body, margin, footer_lines)
        area = QRectF(margin, top, self.width() - 2 * margin, bottom - top)
        if self._layout is None or not self._regions:
            painter.setFont(body)
            painter.setPen(TEXT_DIM)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
            self.drawn_text.append(self._message)
        else:
            experts = (self._layout or {}).get("experts")
            if isinstance(experts, dict) and _int(experts.get("count")) > 0:
                strip = min(max(body.pixelSize() * 3.6, area.height() * EXPERT_SHARE), area.height() * 0.5)
                panel = QRectF(area.left(), area.bottom() - strip, area.width(), strip)
                area = QRectF(area.left(), area.top(), area.width(), max(10.0, area.height() - strip - margin * 0.6))
                heading = expert_panel.caption(experts, self._frame, _int(self._layout.get("layers")), self._experts)
                self.drawn_text += expert_panel.paint(painter, panel, experts, self._experts, self._shared_on,
                                                      heading, body, small)
            self._paint_wafers(painter, area, small)
        painter.end()

    def caption(self) -> str:
        """Every line of text the view shows, whole: its tooltip, where a narrow column cut some."""
        if self._layout is None:
            return self._message
        return "\n".join(line for line in (" ".join(self._title_words()), " · ".join(self._subtitle_parts()),
                                            " · ".join(self._status_parts())) if line)

    def event(self, event) -> bool:  # noqa: D102
        if event.type() == QEvent.Type.ToolTip:
            text = self.caption()
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def _title_words(self) -> list[str]:
        lay = self._layout or {}
        return f"{lay.get('label') or lay.get('profile', '')}".split()

    def _line_budget(self, title: QFont, body: QFont, margin: float) -> tuple[int, int, int]:
        """Lines for the title, subtitle and status line: one each, then more while the grid
        keeps its share of the height (GRID_SHARE, MIN_GRID_PX): subtitle, title, status, subtitle."""
        if self._layout is None:
            return 0, 0, 0
        width = round(self.width() - 2 * margin)
        title_m, body_m = QFontMetrics(title), QFontMetrics(body)
        wanted = [len(self._wrap(self._title_words(), title_m, width, TITLE_LINES, " ")),
                  len(self._wrap(self._subtitle_parts(), body_m, width, SUBTITLE_LINES)),
                  len(self._wrap(self._status_parts(), body_m, width, FOOTER_LINES))]
        heights = (title_m.height() * 1.05, body_m.height(), body_m.height())
        grid = max(MIN_GRID_PX, self.height() * GRID_SHARE)
        room = self.height() - 2 * margin - 2 * 0.35 * body_m.height() - grid
        lines = [min(1, n) for n in wanted]
        used = sum(h * n for h, n in zip(heights, lines))
        for i in (1, 0, 2, 1):
            if lines[i] < wanted[i] and used + heights[i] <= room:
                lines[i] += 1
                used += heights[i]
        return max(1, lines[0]), max(1, lines[1]), max(1, lines[2])

    def _paint_header(self, painter: QPainter, title: QFont, body: QFont, margin: float,
                      title_lines: int, subtitle_lines: int) -> float:
        y = margin
        if self._layout is None:
            return y
        painter.setPen(TEXT)
        painter.setFont(title)
        metrics = painter.fontMetrics()
        width = round(self.width() - 2 * margin)
        for line in self._wrap(self._title_words(), metrics, width, title_lines, " "):
            self._draw_line(painter, line, margin, y + metrics.ascent())
            y += metrics.height() * 1.05
        painter.setFont(body)
        painter.setPen(TEXT_DIM)
        metrics = painter.fontMetrics()
        for line in self._wrap(self._subtitle_parts(), metrics, width, subtitle_lines):
            self._draw_line(painter, line, margin, y + metrics.ascent())
            y += metrics.height()
        return y + metrics.height() * 0.35

    def _draw_line(self, painter: QPainter, text: str, x: float, baseline: float) -> None:
        """One line of text, elided to the widget's width, remembered in `drawn_text`."""
        metrics = painter.fontMetrics()
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, round(self.width() - 2 * x))
        painter.drawText(QPointF(x, baseline), text)
        self.drawn_text.append(text)

    @staticmethod
    def _wrap(parts: list[str], metrics, width: int, max_lines: int = SUBTITLE_LINES,
              separator: str = " · ") -> list[str]:
        """Join parts with `separator` into at most `max_lines` lines that fit `width` pixels."""
        lines: list[str] = []
        for part in parts:
            joined = lines[-1] + separator + part if lines else part
            # Fits exactly when drawing would not elide it (the test `_draw_line` applies).
            if lines and metrics.elidedText(joined, Qt.TextElideMode.ElideRight, width) == joined:
                lines[-1] = joined
            elif len(lines) < max_lines:
                lines.append(part)
            else:
                lines[-1] += separator + part  # elided when drawn
        return lines

    def _subtitle_parts(self) -> list[str]:
        return captions.subtitle_parts(self._layout or {}, len(self._regions))

    def _paint_footer(self, painter: QPainter, body: QFont, margin: float, max_lines: int) -> float:
        painter.setFont(body)
        metrics = painter.fontMetrics()
        lines = self._wrap(self._status_parts(), metrics, round(self.width() - 2 * margin), max_lines)
        y = self.height() - margin - metrics.descent() - (len(lines) - 1) * metrics.height()
        top = y - metrics.ascent()
        painter.setPen(TEXT)
        for line in lines:
            self._draw_line(painter, line, margin, y)
            y += metrics.height()
        return top - metrics.height() * 0.35

    def _status(self) -> str:
        return " · ".join(self._status_parts())

    def _status_parts(self) -> list[str]:
        """The status line's pieces; it wraps between them when the column is narrow."""
        if self._layout is None or not self._regions:
            return []
        return captions.status_parts(self._layout, self._frame)

    def _paint_wafers(self, painter: QPainter, area: QRectF, small: QFont) -> None:
        lay = self._layout or {}
        cols, rows = _int(lay["grid"].get("cols"), 1), _int(lay["grid"].get("rows"), 1)
        wafers = max(1, _int(lay.get("wafers"), 1), 1 + max(_int(r.get("wafer")) for r in self._regions))
        gpu_node = lay.get("kind") == "gpu"
        if gpu_node:  # reflow each node's GPUs into the rows that fit this view best
            per_node = cols * rows
            cols = geometry.gpu_columns(per_node, wafers, area.width(), area.height())
            rows = math.ceil(per_node / cols)
        per_row, lines, cell, gap = geometry.arrange(wafers, cols, rows, area.width(), area.height())
        total_w = per_row * cols * cell + (per_row - 1) * gap
        total_h = lines * rows * cell + (lines - 1) * gap
        x0 = area.left() + (area.width() - total_w) / 2
        y0 = area.top() + (area.height() - total_h) / 2
        origins = []
        for w in range(wafers):
            ox = x0 + (w % per_row) * (cols * cell + gap)
            oy = y0 + (w // per_row) * (rows * cell + gap)
            origins.append(QPointF(ox, oy))
            rect = QRectF(ox, oy, cols * cell, rows * cell)
            painter.setPen(QPen(WAFER_EDGE, max(1.5, min(cell / 6, 3.0))))
            painter.setBrush(WAFER_FILL)
            radius = min(cell * 0.6, 10.0)
            pad = min(cell * 0.15, 3.0)
            painter.drawRoundedRect(rect.adjusted(-pad, -pad, pad, pad), radius, radius)
            if cell >= 7:
                painter.setPen(QPen(GRID_LINE, 1))
                for c in range(1, cols):
                    painter.drawLine(QPointF(ox + c * cell, oy), QPointF(ox + c * cell, oy + rows * cell))
                for r in range(1, rows):
                    painter.drawLine(QPointF(ox, oy + r * cell), QPointF(ox + cols * cell, oy + r * cell))

        layers = max(1, _int(lay.get("layers"), 1))
        self._rects = {}
        painter.setFont(small)
        metrics = painter.fontMetrics()
        inset = max(0.5, min(cell * 0.08, 5.0))
        for region in self._regions:
            w = _int(region.get("wafer"))
            if not 0 <= w < len(origins):
                continue
            o = origins[w]
            x, y = _int(region.get("x")), _int(region.get("y"))
            if gpu_node:
                x, y = self._gpu_index(region) % cols, self._gpu_index(region) // cols
            rect = QRectF(
                o.x() + x * cell + inset,
                o.y() + y * cell + inset,
                max(1, _int(region.get("w"), 1)) * cell - 2 * inset,
                max(1, _int(region.get("h"), 1)) * cell - 2 * inset,
            )
            rid = _int(region.get("id"), -1)
            self._rects[rid] = rect
            kind = region.get("kind", "layer")
            first = _int(region.get("first_layer"), -1)
            base = VOCAB if kind in ("embed", "head", "vocab") else _layer_color(max(first, 0), layers)
            level = self._levels.get(rid, 0.0)
            fill = _blend(base, ACTIVE, level)
            edge = min(3.0, max(1.0, cell / 10))
            painter.setPen(QPen(ACTIVE if level >= 0.99 else base.lighter(150), edge * (2 if level >= 0.99 else 1)))
            painter.setBrush(fill)
            radius = min(6.0, min(rect.width(), rect.height()) * 0.15)
            painter.drawRoundedRect(rect, radius, radius)
            label = self._region_label(region, kind, first)
            if label and rect.width() > metrics.horizontalAdvance(label) + 4 and rect.height() > metrics.height():
                painter.setPen(QColor("#111111") if level > 0.5 else TEXT)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)

    def _gpu_index(self, region: dict) -> int:
        """A GPU's number within its node, from its place in the layout's grid."""
        cols = _int((self._layout or {}).get("grid", {}).get("cols"), 1)
        return _int(region.get("y")) * cols + _int(region.get("x"))

    def _region_label(self, region: dict, kind: str, first: int) -> str:
        if kind in _KIND_LABEL:
            if kind == "gpu":
                return f"GPU {self._gpu_index(region)}"
            return _KIND_LABEL[kind]
        last = _int(region.get("last_layer"), first)
        if kind == "layers" and last > first:
            current = self._frame.get("layer")
            if isinstance(current, int) and first <= current <= last and self._levels.get(_int(region.get("id"))):
                return f"layer {current + 1}"
            return f"layers {first + 1}-{last + 1}"
        return str(first + 1) if first >= 0 else ""
