"""Speed and latency gauges, drawn with QPainter, sized to be read on a projector.

- ``SpeedGauge``: tok/s arc (instantaneous) with a tick at the request's average, a big number,
  and the engine's pacing lag when it has any. ``set_rates(instant_tok_s, average_tok_s)``,
  ``set_lag(lag_ms)``.
- ``TtftGauge``: time to first token as the user saw it (click to first token painted) and as the
  engine reports it. ``set_ttft(client_ms, engine_ms)``.
- ``RateTimeline``: tok/s sparkline of the current request. ``set_series([(t_s, tok_s), ...])``.
- ``MetricsPanel``: the three stacked, refreshed from a ``StreamMetrics`` on a 60 Hz timer
  (``bind(metrics)``); repaints only when a reading changed.

The gauges are passive: they show what they are given. Numbers change at most
``TEXT_INTERVAL_S`` apart so they stay readable; arcs and the sparkline move every frame.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from app.core.highlight import DARK, Theme
from app.core.metrics import MetricsSnapshot, StreamMetrics, shown_rate

TEXT_INTERVAL_S = 0.125  # numbers refresh at 8 Hz: faster is a blur on a projector
ARC_SPAN_DEG = 240.0  # the dial's sweep (degrees)
SCALES_TOK_S = (100, 250, 500, 1000, 2000, 5000, 10000, 20000)  # dial full-scale steps (tok/s)


def format_rate(tok_s: float | None) -> str:
    if tok_s is None:
        return "–"
    return f"{tok_s:,.0f}"


def format_ms(ms: float | None) -> str:
    if ms is None:
        return "–"
    return f"{ms:,.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def _font(pixel_size: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(12, int(pixel_size)))
    font.setBold(bold)
    return font


def _draw_fitted(painter: QPainter, rect: QRectF, text: str, pixel_size: float,
                 align=Qt.AlignmentFlag.AlignCenter, bold: bool = True) -> None:
    """Draw ``text`` as large as ``pixel_size`` allows while still fitting ``rect``'s width."""
    font = _font(pixel_size, bold)
    painter.setFont(font)
    width = painter.fontMetrics().horizontalAdvance(text)
    if width > rect.width() and width > 0:
        font = _font(pixel_size * rect.width() / width * 0.97, bold)
        painter.setFont(font)
    painter.drawText(rect, align, text)




class _Gauge(QWidget):
    def __init__(self, parent: QWidget | None, theme: Theme):
        super().__init__(parent)
        self.theme = theme
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def _begin(self) -> QPainter:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(self.theme.gutter_background))
        return painter


class SpeedGauge(_Gauge):
    """Tokens per second: instantaneous on the arc and in big digits, average as a tick."""

    def __init__(self, parent: QWidget | None = None, theme: Theme = DARK,
                 text_interval_s: float = TEXT_INTERVAL_S):
        super().__init__(parent, theme)
        self.text_interval_s = text_interval_s
        self.instant_tok_s = 0.0  # latest instantaneous rate (tok/s)
        self.average_tok_s: float | None = None  # latest request average (tok/s)
        self.lag_ms = 0.0  # pacing lag reported by the engine (ms)
        self.scale_tok_s = SCALES_TOK_S[3]  # dial full scale (tok/s); only grows within a request
        self.streaming = True  # False once the request ended: the big number is then the average
        self.instant_text = format_rate(0.0)  # the big number as drawn
        self.caption_text = "tok/s"  # the unit line under it
        self.average_text = "avg " + format_rate(None)  # the small line as drawn
        self._text_at_s = -math.inf

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, 260)

    def reset_scale(self) -> None:
        self.scale_tok_s = SCALES_TOK_S[3]
        self.update()

    def set_rates(self, instant_tok_s: float, average_tok_s: float | None,
                  now_s: float | None = None, streaming: bool = True,
                  computed_here_tok_s: float | None = None, engine_tok_s: float | None = None) -> None:
        """Show the latest rates; after the request (``streaming=False``) the average is the headline.

        ``computed_here_tok_s``: on an emulated profile, the local compute rate, shown second and
        labelled (the headline is the emulated pace the user saw). ``engine_tok_s``: the engine's
        decode rate, shown second where it differs from the headline (arrivals include transport)."""
        now_s = time.perf_counter() if now_s is None else now_s
        changed = (instant_tok_s, average_tok_s, streaming) != (
            self.instant_tok_s, self.average_tok_s, self.streaming)
        if streaming != self.streaming or (self.instant_text == format_rate(0.0) and instant_tok_s):
            self._text_at_s = -math.inf  # a change of state, or the first tokens, show at once
        self.streaming = streaming
        self.instant_tok_s, self.average_tok_s = max(0.0, instant_tok_s), average_tok_s
        peak = max(self.instant_tok_s, average_tok_s or 0.0)
        while peak > self.scale_tok_s and self.scale_tok_s < SCALES_TOK_S[-1]:
            self.scale_tok_s = next(s for s in SCALES_TOK_S if s > self.scale_tok_s)
        if now_s - self._text_at_s >= self.text_interval_s:
            self._text_at_s = now_s
            if streaming:
                self.instant_text = format_rate(self.instant_tok_s)
                self.caption_text = "tok/s"
                self.average_text = "avg " + format_rate(average_tok_s)
            elif computed_here_tok_s:
                self.instant_text = format_rate(average_tok_s)
                self.caption_text = "tok/s emulated"
                self.average_text = f"{format_rate(computed_here_tok_s)} computed here"
            else:
                self.instant_text = format_rate(average_tok_s)
                self.caption_text = "tok/s average"
                self.average_text = "done"
                if engine_tok_s and format_rate(engine_tok_s) != self.instant_text:
                    self.average_text = f"engine decode {format_rate(engine_tok_s)}"
        if changed:
            self.update()

    def set_lag(self, lag_ms: float) -> None:
        if lag_ms != self.lag_ms:
            self.lag_ms = max(0.0, lag_ms)
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = self._begin()
        theme = self.theme
        w, h = self.width(), self.height()
        side = min(w, h * 1.25)
        pen_w = max(8.0, side * 0.06)
        radius = side / 2 - pen_w
        centre = QPointF(w / 2, h * 0.52)
        box = QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius)
        start_deg = 90 + ARC_SPAN_DEG / 2  # Qt angles: counter-clockwise from 3 o'clock
        track = QPen(QColor(theme.current_line), pen_w, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        painter.setPen(track)
        painter.drawArc(box, int(start_deg * 16), int(-ARC_SPAN_DEG * 16))
        fraction = min(1.0, self.instant_tok_s / self.scale_tok_s)
        if fraction > 0:
            painter.setPen(QPen(QColor(theme.accent), pen_w, Qt.PenStyle.SolidLine,
                                Qt.PenCapStyle.RoundCap))
            painter.drawArc(box, int(start_deg * 16), int(-ARC_SPAN_DEG * fraction * 16))
        if self.average_tok_s:
            angle = math.radians(start_deg - ARC_SPAN_DEG * min(1.0, self.average_tok_s / self.scale_tok_s))
            inner, outer = radius - pen_w, radius + pen_w
            painter.setPen(QPen(QColor(theme.target_bar), max(3.0, pen_w * 0.35)))
            painter.drawLine(QPointF(centre.x() + inner * math.cos(angle), centre.y() - inner * math.sin(angle)),
                             QPointF(centre.x() + outer * math.cos(angle), centre.y() - outer * math.sin(angle)))
        painter.setPen(QColor(theme.foreground))
        inner_w = 2 * (radius - pen_w)
        number_box = QRectF(centre.x() - inner_w / 2, centre.y() - radius * 0.55, inner_w, radius * 0.7)
        _draw_fitted(painter, number_box, self.instant_text, radius * 0.55)
        painter.setPen(QColor(theme.gutter_foreground))
        _draw_fitted(painter, QRectF(centre.x() - inner_w / 2, centre.y() + radius * 0.12, inner_w,
                                     radius * 0.3), self.caption_text, radius * 0.2)
        painter.setPen(QColor(theme.target_bar))
        _draw_fitted(painter, QRectF(centre.x() - inner_w / 2, centre.y() + radius * 0.42, inner_w,
                                     radius * 0.34), self.average_text, radius * 0.22)
        # The corner lines sit above the arc, never over the numbers inside it.
        painter.setPen(QColor(theme.gutter_foreground))
        painter.setFont(_font(14))
        painter.drawText(QRectF(6, 4, w - 12, 20), Qt.AlignmentFlag.AlignRight,
                         f"scale {format_rate(self.scale_tok_s)}")
        if self.lag_ms > 0:
            painter.setPen(QColor("#ff6b6b"))
            painter.setFont(_font(14, bold=True))
            painter.drawText(QRectF(6, 4, w - 12, 20), Qt.AlignmentFlag.AlignLeft,
                             f"lag +{format_ms(self.lag_ms)}")
        painter.end()


class TtftGauge(_Gauge):
    """Time to first token: what the user saw (big) and what the engine measured (below)."""

    def __init__(self, parent: QWidget | None = None, theme: Theme = DARK):
        super().__init__(parent, theme)
        self.client_ms: float | None = None  # click to first token painted (ms)
        self.engine_ms: float | None = None  # the engine's own TTFT (ms)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, 130)

    @property
    def client_text(self) -> str:
        return format_ms(self.client_ms)

    @property
    def engine_text(self) -> str:
        return "engine " + format_ms(self.engine_ms)

    def set_ttft(self, client_ms: float | None, engine_ms: float | None) -> None:
        if (client_ms, engine_ms) != (self.client_ms, self.engine_ms):
            self.client_ms, self.engine_ms = client_ms, engine_ms
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = self._begin()
        theme, w, h = self.theme, self.width(), self.height()
        painter.setPen(QColor(theme.gutter_foreground))
        painter.setFont(_font(h * 0.15, bold=True))
        painter.drawText(QRectF(10, 4, w - 20, h * 0.2), Qt.AlignmentFlag.AlignLeft, "TTFT")
        painter.setPen(QColor(theme.foreground))
        _draw_fitted(painter, QRectF(10, h * 0.2, w - 20, h * 0.45), self.client_text, h * 0.36)
        painter.setPen(QColor(theme.accent))
        _draw_fitted(painter, QRectF(10, h * 0.66, w - 20, h * 0.28), self.engine_text, h * 0.17)
        painter.end()


class RateTimeline(_Gauge):
    """Sparkline of tok/s over the current request."""

    def __init__(self, parent: QWidget | None = None, theme: Theme = DARK):
        super().__init__(parent, theme)
        self.series: list[tuple[float, float]] = []  # (t since start in s, tok/s)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, 110)

    @property
    def peak_tok_s(self) -> float:
        return max((rate for _, rate in self.series), default=0.0)

    def set_series(self, series: Sequence[tuple[float, float]]) -> None:
        series = list(series)
        if series != self.series:
            self.series = series
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = self._begin()
        theme, w, h = self.theme, self.width(), self.height()
        label_h = max(16.0, h * 0.2)
        painter.setPen(QColor(theme.gutter_foreground))
        peak = self.peak_tok_s
        label = "tok/s over time"  # no figure here: the gauge above holds the one to read
        _draw_fitted(painter, QRectF(10, 2, w - 20, label_h), label, label_h * 0.85,
                     Qt.AlignmentFlag.AlignLeft)
        if len(self.series) >= 2 and peak > 0:
            top, bottom, left, right = label_h + 6, h - 6, 10.0, w - 10.0
            span_s = max(self.series[-1][0], 1e-9)
            path = QPainterPath(QPointF(left, bottom))
            for t_s, rate in self.series:
                path.lineTo(left + (right - left) * t_s / span_s, bottom - (bottom - top) * rate / peak)
            path.lineTo(right, bottom)
            fill = QColor(theme.accent)
            fill.setAlpha(60)
            painter.fillPath(path, fill)
            painter.setPen(QPen(QColor(theme.accent), 2.5))
            painter.drawPath(path)
        painter.end()


class MetricsPanel(QWidget):
    """Speed gauge, TTFT gauge and timeline, refreshed from a StreamMetrics at 60 Hz."""

    def __init__(self, parent: QWidget | None = None, theme: Theme = DARK,
                 clock: Callable[[], float] = time.perf_counter):
        super().__init__(parent)
        self.speed = SpeedGauge(self, theme)
        self.ttft = TtftGauge(self, theme)
        self.timeline = RateTimeline(self, theme)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.speed, 5)
        layout.addWidget(self.ttft, 3)
        layout.addWidget(self.timeline, 2)
        self._clock = clock
        self._metrics: StreamMetrics | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(16)
        self._timer.timeout.connect(self.tick)

    def bind(self, metrics: StreamMetrics | None) -> None:
        """Follow ``metrics`` (None stops)."""
        self._metrics = metrics
        if metrics is None:
            self._timer.stop()
        else:
            self.speed.reset_scale()
            self._timer.start()
            self.tick()

    def show_once(self, metrics: StreamMetrics) -> None:
        """Draw ``metrics`` once without following it (e.g. a request that has already ended)."""
        following, self._metrics = self._metrics, metrics
        try:
            self.tick()
        finally:
            self._metrics = following

    def tick(self, now_s: float | None = None) -> MetricsSnapshot | None:
        if self._metrics is None:
            return None
        now_s = self._clock() if now_s is None else now_s
        snap = self._metrics.snapshot(now_s)
        # While streaming the tick marks the arrival average; at the end the big number is the
        # one figure the status line states too (metrics.shown_rate).
        average = snap.average_tok_s if snap.streaming else shown_rate(snap)
        self.speed.set_rates(snap.instant_tok_s, average, now_s,
                             streaming=snap.streaming or not snap.tokens,
                             computed_here_tok_s=snap.engine_tok_s if snap.paced_tok_s else None,
                             engine_tok_s=snap.engine_tok_s)
        self.speed.set_lag(snap.lag_ms)
        self.ttft.set_ttft(snap.ttft_ms, snap.engine_ttft_ms)
        self.timeline.set_series(self._metrics.timeline(now_s))
        return snap
