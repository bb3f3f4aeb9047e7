"""The wafer view's expert strip: one small tile per routed expert of the current MoE layer, the ones
the current token was routed to lit, the shared expert apart, and a legend saying which is which.

Pure painting helpers for WaferView (plain dicts in, QPainter out); the routing itself is
emulated by the engine's trace and arrives in each frame's `experts` list.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

ROUTED = QColor("#ffc933")  # experts the current token was routed to (the active colour of the view)
SHARED = QColor("#39c2a5")  # the always-active shared expert
IDLE = QColor("#2a3246")  # experts this token skipped
IDLE_EDGE = QColor("#3d4863")
TEXT = QColor("#f2f4f8")
TEXT_DIM = QColor("#a9b3c7")
FADED = 0.45  # brightness of the last MoE layer's experts while the token is in a dense layer
LEGEND = (("routed", ROUTED), ("shared", SHARED), ("idle", IDLE))


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(*(x + (y - x) * t for x, y in ((a.redF(), b.redF()), (a.greenF(), b.greenF()),
                                                           (a.blueF(), b.blueF()))))


def caption(experts: dict, frame: dict, layers: int, lit: dict[int, float]) -> str:
    """The strip's heading, short enough for the gauge column: what the lit tiles mean now."""
    count, per = int(experts.get("count") or 0), int(experts.get("per_token") or 0)
    phase, layer = frame.get("phase"), frame.get("experts_layer")
    if phase == "prefill":
        return f"Experts: the prompt reaches all {count}"
    if isinstance(layer, int) and isinstance(frame.get("experts"), list):
        return f"Experts, layer {layer + 1}: {per} of {count}"
    return f"Experts: {per} of {count} per token"


def grid_shape(count: int, width: float, height: float) -> tuple[int, int]:
    """Columns and rows of square tiles that hold `count` and fill width x height best."""
    cols = max(1, min(count, round(math.sqrt(count * max(width, 1.0) / max(height, 1.0)))))
    for c in range(cols, count + 1):
        if math.ceil(count / c) * (width / c) <= height or c == count:
            return c, math.ceil(count / c)
    return cols, math.ceil(count / cols)


def _legend_width(small, shared: bool) -> float:
    box = small.ascent() * 0.8
    return sum(box * 3.0 + small.horizontalAdvance(label) for label, _ in LEGEND if shared or label != "shared")


def _paint_entry(painter: QPainter, small, x: float, baseline: float, label: str, color: QColor,
                 drawn: list[str]) -> float:
    """One legend entry (swatch and word); the x where the next one may start."""
    box = small.ascent() * 0.8
    painter.setPen(QPen(color.lighter(130), 1))
    painter.setBrush(color)
    painter.drawRoundedRect(QRectF(x, baseline - box, box, box), 2, 2)
    painter.setPen(TEXT_DIM)
    painter.drawText(QPointF(x + box * 1.4, baseline), label)
    drawn.append(label)
    return x + box * 3.0 + small.horizontalAdvance(label)


def _paint_legend(painter: QPainter, small, x: float, baseline: float, shared: bool, drawn: list[str]) -> None:
    for label, color in LEGEND:
        if shared or label != "shared":
            x = _paint_entry(painter, small, x, baseline, label, color, drawn)


def paint(painter: QPainter, area: QRectF, experts: dict, lit: dict[int, float], shared_on: float,
          heading: str, body_font, small_font) -> list[str]:
    """Paint the heading, the legend (beside the heading when it fits, else under the tiles) and
    the tiles into `area`; the text lines drawn, top to bottom."""
    drawn: list[str] = []
    count = max(0, int(experts.get("count") or 0))
    shared = bool(experts.get("shared"))
    painter.setFont(body_font)
    metrics = painter.fontMetrics()
    text = metrics.elidedText(heading, Qt.TextElideMode.ElideRight, round(area.width()))
    painter.setPen(TEXT)
    baseline = area.top() + metrics.ascent()
    painter.drawText(QPointF(area.left(), baseline), text)
    drawn.append(text)
    top = area.top() + metrics.height() * 1.1
    painter.setFont(small_font)
    small = painter.fontMetrics()
    legend_room = area.width() - metrics.horizontalAdvance(text) - small.height()
    entries = [(label, color) for label, color in LEGEND if shared or label != "shared"]
    inline = _legend_width(small, shared) <= legend_room
    stacked = not inline and len(entries) * small.height() <= area.bottom() - top
    right = area.right()
    if inline:
        _paint_legend(painter, small, area.right() - _legend_width(small, shared), baseline, shared, drawn)
    elif stacked:  # a narrow column: the legend stands beside the tiles, one entry a line
        column = max(small.horizontalAdvance(label) for label, _ in entries) + small.ascent() * 1.6
        right = area.right() - column
        for i, (label, color) in enumerate(entries):
            y = top + (i + 1) * small.height() - small.descent()
            _paint_entry(painter, small, right + small.ascent() * 0.6, y, label, color, drawn)
    bottom = area.bottom() - (0 if inline or stacked else small.height() * 1.25)

    tiles = QRectF(area.left(), top, right - area.left(), max(4.0, bottom - top))
    slots = count + (1 if shared else 0)
    if slots:
        cols, rows = grid_shape(slots, tiles.width(), tiles.height())
        side = min(tiles.width() / cols, tiles.height() / rows)
        gap = max(0.5, min(side * 0.18, 3.0))
        x0 = tiles.left() + (tiles.width() - cols * side) / 2
        lit_rects = []
        for slot in range(slots):
            r, c = divmod(slot, cols)
            rect = QRectF(x0 + c * side + gap / 2, tiles.top() + r * side + gap / 2, side - gap, side - gap)
            if shared and slot == 0:
                color, edge = _blend(IDLE, SHARED, max(0.35, shared_on)), SHARED
            else:
                level = lit.get(slot - (1 if shared else 0), 0.0)
                color, edge = _blend(IDLE, ROUTED, level), ROUTED if level >= 0.99 else IDLE_EDGE
            painter.setPen(QPen(edge, 1.0 if side < 10 else 1.5))
            painter.setBrush(color)
            painter.drawRoundedRect(rect, min(3.0, side * 0.2), min(3.0, side * 0.2))
            if edge is ROUTED:
                lit_rects.append(rect)
        # Hundreds of experts leave tiles a few pixels wide: the routed ones are drawn again on
        # top, grown to at least 7 px, so a token's choice stays visible from across a room.
        grow = max(0.0, (7.0 - side) / 2)
        painter.setPen(QPen(ROUTED.lighter(120), 1.0))
        painter.setBrush(ROUTED)
        for rect in lit_rects if grow else ():
            painter.drawRoundedRect(rect.adjusted(-grow, -grow, grow, grow), 2, 2)
    if not inline and not stacked:
        _paint_legend(painter, small, area.left(), area.bottom() - small.descent(), shared, drawn)
    return drawn
