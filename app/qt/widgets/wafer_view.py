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

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.qt.widgets import expert_panel

BACKGROUND = QColor("#0d1017")
WAFER_FILL = QColor("#1a2030")
WAFER_EDGE = QColor("#39435a")
GRID_LINE = QColor(255, 255, 255, 14)
TEXT = QColor("#f2f4f8")
TEXT_DIM = QColor("#a9b3c7")
ACTIVE = QColor("#ffc933")  # the layer the token is in now
VOCAB = QColor("#2f6f62")  # embedding / LM head tables
WAFER_GAP_CELLS = 0.8  # space between wafers, in cells: enough to tell wafers apart at a glance
MIN_WAFER_GAP_PX = 7.0  # ... and never less than this many pixels
_KIND_LABEL = {"embed": "embed", "head": "head", "vocab": "vocab", "gpu": "GPU"}
# Body text never gets smaller than this (px), however narrow the gauge column: smaller text is
# unreadable on a projector. The grid shrinks instead; it stays readable as a picture.
MIN_BODY_PX = 16
SUBTITLE_LINES = 3  # the subtitle wraps rather than cutting its figures off
TITLE_LINES = 2  # hardware names such as "8x NVIDIA H100 SXM (NVLink)" wrap too
FOOTER_LINES = 2  # and so does the status line under the grid
EXPERT_SHARE = 0.42  # share of the picture's height the expert strip takes for an MoE model


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


def _int(value, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


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
        return QSize(220, 200)

    def _fonts(self) -> tuple[QFont, QFont, QFont]:
        base = max(MIN_BODY_PX, min(self.width() / 26.0, self.height() / 17.0)) * self._scale
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
        top = self._paint_header(painter, title, body, margin)
        bottom = self._paint_footer(painter, body, margin)
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

    def _paint_header(self, painter: QPainter, title: QFont, body: QFont, margin: float) -> float:
        y = margin
        if self._layout is None:
            return y
        lay = self._layout
        painter.setPen(TEXT)
        painter.setFont(title)
        label = f"{lay.get('label') or lay.get('profile', '')}"
        metrics = painter.fontMetrics()
        width = round(self.width() - 2 * margin)
        for line in self._wrap(label.split(), metrics, width, TITLE_LINES, " "):
            self._draw_line(painter, line, margin, y + metrics.ascent())
            y += metrics.height() * 1.05
        painter.setFont(body)
        painter.setPen(TEXT_DIM)
        metrics = painter.fontMetrics()
        width = round(self.width() - 2 * margin)
        # Text may take about a third of the height: the grid below it must stay a picture.
        max_lines = max(1, min(SUBTITLE_LINES, int(self.height() * 0.3 // metrics.height())))
        for line in self._wrap(self._subtitle_parts(), metrics, width, max_lines):
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
        """Most telling first: when space runs out, the details at the end are what is cut."""
        lay = self._layout or {}
        parts = [str(lay.get("model", ""))]
        if lay.get("decode_tok_s"):
            parts.append(f"predicted {float(lay['decode_tok_s']):,.0f} tok/s")
        if lay.get("kind") == "wafer":
            n = _int(lay.get("wafers"), 1)
            parts.append(f"{n} wafer{'s' if n != 1 else ''}")
            if lay.get("sram_utilization") is not None:
                pct = 100 * float(lay["sram_utilization"])
                parts.append(f"SRAM {pct:.0f}%" if pct >= 1 else f"SRAM {pct:.2f}%")
            fraction = lay.get("view_fraction")
            if isinstance(fraction, (int, float)) and fraction < 0.999:
                parts.append(f"{100 * fraction:.1f}% of the wafer shown")
        elif lay.get("kind") == "gpu":
            n, nodes = len(self._regions), _int(lay.get("wafers"), 1)
            if nodes > 1:  # the model outgrows one node of the profile: say so, not a bare "16 GPUs"
                parts.append(f"{n} GPUs in {nodes} nodes")
            else:
                parts.append(f"{n} GPU{'s' if n != 1 else ''}")
        return [p for p in parts if p]

    def _paint_footer(self, painter: QPainter, body: QFont, margin: float) -> float:
        painter.setFont(body)
        metrics = painter.fontMetrics()
        lines = self._wrap(self._status_parts(), metrics, round(self.width() - 2 * margin), FOOTER_LINES)
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
        f = self._frame
        phase = f.get("phase")
        if not f or phase in (None, "idle"):
            return ["waiting for a request"]
        t = f.get("t_ms")
        t_text = [f"t = {float(t):,.1f} ms"] if isinstance(t, (int, float)) else []
        if phase == "prefill":
            return ["prefill: prompt flows through all layers", *t_text]
        layer = f.get("layer")
        layers = _int(self._layout.get("layers"))
        where = f"layer {layer + 1}/{layers}" if isinstance(layer, int) else {"host": "host", "hop": "between wafers"}.get(phase, "vocab")
        return [f"token {_int(f.get('tokens'))}", where, *t_text]

    def _wafer_arrangement(self, wafers: int, cols: int, rows: int, area: QRectF,
                           min_gap: float = MIN_WAFER_GAP_PX) -> tuple[int, int, float, float]:
        """Wafers per row, rows of wafers, cell size and gap (px) that fill `area` best; with dozens
        of wafers in a small view the gaps narrow rather than push wafers out of the view."""
        best = (1, wafers, 0.0, 0.0)
        for per_row in range(1, wafers + 1):
            lines = math.ceil(wafers / per_row)
            gap = min_gap if wafers > 1 else 0.0
            cell = min(
                (area.width() - (per_row - 1) * gap) / (per_row * cols),
                (area.height() - (lines - 1) * gap) / (lines * rows),
            )
            if cell > best[2]:
                best = (per_row, lines, cell, max(gap, cell * WAFER_GAP_CELLS) if wafers > 1 else 0.0)
        per_row, lines, cell, gap = best
        # the gap may have grown with the cell: shrink cells so everything still fits
        cell = min(cell, (area.width() - (per_row - 1) * gap) / (per_row * cols),
                   (area.height() - (lines - 1) * gap) / (lines * rows))
        if cell < 0.5 and min_gap > 1.0:
            return self._wafer_arrangement(wafers, cols, rows, area, min_gap / 2)
        return per_row, lines, max(cell, 0.25), gap

    def _paint_wafers(self, painter: QPainter, area: QRectF, small: QFont) -> None:
        lay = self._layout or {}
        cols, rows = _int(lay["grid"].get("cols"), 1), _int(lay["grid"].get("rows"), 1)
        wafers = max(1, _int(lay.get("wafers"), 1), 1 + max(_int(r.get("wafer")) for r in self._regions))
        per_row, lines, cell, gap = self._wafer_arrangement(wafers, cols, rows, area)
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
            rect = QRectF(
                o.x() + _int(region.get("x")) * cell + inset,
                o.y() + _int(region.get("y")) * cell + inset,
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

    def _region_label(self, region: dict, kind: str, first: int) -> str:
        if kind in _KIND_LABEL:
            if kind == "gpu":
                cols = _int((self._layout or {}).get("grid", {}).get("cols"), 1)
                return f"GPU {_int(region.get('y')) * cols + _int(region.get('x'))}"
            return _KIND_LABEL[kind]
        last = _int(region.get("last_layer"), first)
        if kind == "layers" and last > first:
            current = self._frame.get("layer")
            if isinstance(current, int) and first <= current <= last and self._levels.get(_int(region.get("id"))):
                return f"layer {current + 1}"
            return f"layers {first + 1}-{last + 1}"
        return str(first + 1) if first >= 0 else ""
