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
LEGEND = (("routed to", ROUTED), ("shared", SHARED), ("idle", IDLE))


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(*(x + (y - x) * t for x, y in ((a.redF(), b.redF()), (a.greenF(), b.greenF()),
                                                           (a.blueF(), b.blueF()))))


def caption(experts: dict, frame: dict, layers: int, lit: dict[int, float]) -> str:
    """The strip's heading: what the lit tiles mean now."""
    count, per = int(experts.get("count") or 0), int(experts.get("per_token") or 0)
    shared = " + shared" if experts.get("shared") else ""
    phase, layer = frame.get("phase"), frame.get("experts_layer")
    if phase == "prefill":
        return f"Experts: prompt tokens reach all {count}"
    if isinstance(layer, int) and isinstance(frame.get("experts"), list):
        return f"Token {frame.get('tokens', '?')}, layer {layer + 1}/{layers}: {per} of {count} experts{shared}"
    return f"Experts: {count} per MoE layer, {per} per token{shared}"


def grid_shape(count: int, width: float, height: float) -> tuple[int, int]:
    """Columns and rows of square tiles that hold `count` and fill width x height best."""
    cols = max(1, min(count, round(math.sqrt(count * max(width, 1.0) / max(height, 1.0)))))
    for c in range(cols, count + 1):
        if math.ceil(count / c) * (width / c) <= height or c == count:
            return c, math.ceil(count / c)
    return cols, math.ceil(count / cols)


def paint(painter: QPainter, area: QRectF, experts: dict, lit: dict[int, float], shared_on: float,
          heading: str, body_font, small_font) -> list[str]:
    """Paint the heading, the tiles and the legend into `area`; the text lines drawn, top to bottom."""
    drawn: list[str] = []
    count = max(0, int(experts.get("count") or 0))
    painter.setFont(body_font)
    metrics = painter.fontMetrics()
    y = area.top() + metrics.ascent()
    text = metrics.elidedText(heading, Qt.TextElideMode.ElideRight, round(area.width()))
    painter.setPen(TEXT)
    painter.drawText(QPointF(area.left(), y), text)
    drawn.append(text)
    top = area.top() + metrics.height() * 1.15

    painter.setFont(small_font)
    small = painter.fontMetrics()
    legend_h = small.height() * 1.3
    tiles = QRectF(area.left(), top, area.width(), max(4.0, area.bottom() - top - legend_h))
    shared = bool(experts.get("shared"))
    slots = count + (1 if shared else 0)
    if slots:
        cols, rows = grid_shape(slots, tiles.width(), tiles.height())
        side = min(tiles.width() / cols, tiles.height() / rows)
        gap = max(0.5, min(side * 0.18, 3.0))
        x0 = tiles.left() + (tiles.width() - cols * side) / 2
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

    x, y = area.left(), area.bottom() - small.descent()
    for label, color in LEGEND:
        if label == "shared" and not shared:
            continue
        box = small.ascent() * 0.8
        painter.setPen(QPen(color.lighter(130), 1))
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(x, y - box, box, box), 2, 2)
        painter.setPen(TEXT_DIM)
        painter.drawText(QPointF(x + box * 1.4, y), label)
        drawn.append(label)
        x += box * 1.4 + small.horizontalAdvance(label) + box * 1.6
    return drawn
