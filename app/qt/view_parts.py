"""The window's right-hand column (gauges, wafer view) and small helpers for the main window."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.core.metrics import MetricsSnapshot, StreamMetrics, shown_rate
from app.qt.widgets.gauges import MetricsPanel
from app.qt.widgets.wafer_view import WaferView
from wire import DoneStats

_LANGUAGES = {".py": "python", ".pyi": "python", ".js": "javascript", ".ts": "typescript",
              ".rs": "rust", ".go": "go", ".c": "c", ".h": "c", ".cpp": "cpp", ".java": "java",
              ".rb": "ruby", ".sh": "bash", ".md": "markdown", ".json": "json", ".toml": "toml"}


# Heights of the metrics panel and the wafer view in the gauge column (stretch factors), normally
# and in presentation mode, where the wafer view's larger text needs more height to leave its grid
# readable from afar.
PANEL_WAFER_STRETCH = {False: (3, 2), True: (1, 1)}


class StatusLine(QLabel):
    """The status bar's message: one line, or two when a long one would be cut off.

    Messages such as the model's out-of-scope notice matter and nobody hovers for a tooltip in
    front of a room; a label left to wrap by itself asks the status bar for far too much height,
    so the height is set here from the text and the width the label really has.
    """

    MAX_LINES = 2

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self._fit()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        self._fit()  # font or style sheet changed (presentation mode)

    def lines(self) -> int:
        """How many lines the current text takes at the current width (at most MAX_LINES)."""
        width = self.contentsRect().width() - 4
        if width <= 0:
            return 1
        needed = self.fontMetrics().boundingRect(0, 0, width, 10_000, int(Qt.TextFlag.TextWordWrap),
                                                 self.text()).height()
        return max(1, min(self.MAX_LINES, round(needed / self.fontMetrics().lineSpacing())))

    def _fit(self) -> None:
        margins = self.contentsMargins()
        height = self.lines() * self.fontMetrics().lineSpacing() + margins.top() + margins.bottom() + 4
        if height != self.height() or self.minimumHeight() != height:
            self.setFixedHeight(height)


def language_for_path(path: str | None) -> str:
    """The language name sent to the engine; Python for unsaved buffers (the common case)."""
    if not path:
        return "python"
    return _LANGUAGES.get(Path(path).suffix.lower(), "text")


class GaugeColumn(QWidget):
    """Hardware and target captions, the metrics panel (tok/s, TTFT, timeline), the wafer view.

    Owns the request's `StreamMetrics`; the panel follows it at 60 Hz while a request streams.
    """

    def __init__(self, parent: QWidget | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__(parent)
        self.setObjectName("gauges")
        self.setMinimumWidth(300)
        self.metrics = StreamMetrics()
        self.profile_label = QLabel("Hardware: this machine", self)
        self.profile_label.setObjectName("gaugeCaption")
        self.profile_label.setWordWrap(True)  # "Llama 4 Maverick (400B, MoE) on 8×B200" needs two lines
        self.target_label = QLabel("Target: –", self)
        self.target_label.setObjectName("gaugeCaption")
        self.target_label.setWordWrap(True)
        self.panel = MetricsPanel(self, clock=clock)  # clock: seconds, perf_counter's scale
        self.wafer = WaferView(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.profile_label)
        layout.addWidget(self.target_label)
        layout.addWidget(self.panel, PANEL_WAFER_STRETCH[0][0])
        layout.addWidget(self.wafer, PANEL_WAFER_STRETCH[0][1])

    def set_profile(self, label: str, name: str = "local") -> None:
        self.profile_label.setText(f"Hardware: {label}")
        # This machine has no emulated wafer to show: give the room to the gauges.
        self.wafer.setVisible(name != "local")
        # A layout drawn for other hardware would mislead until the next edit brings the new one.
        self.wafer.clear(f"{label}: the placement appears with the next edit")

    def set_target(self, label: str) -> None:
        self.target_label.setText(f"Target: {label}")

    def set_scale(self, scale: float) -> None:
        for widget in (self.profile_label, self.target_label):
            font = QFont(widget.font())
            if font.pointSizeF() <= 0:
                continue  # sized in pixels by the window's style sheet, which scales it
            base = widget.property("basePointSize") or font.pointSizeF()
            widget.setProperty("basePointSize", base)
            font.setPointSizeF(base * scale)
            widget.setFont(font)
        self.wafer.set_scale(scale)
        panel_share, wafer_share = PANEL_WAFER_STRETCH[scale > 1.0]
        self.layout().setStretchFactor(self.panel, panel_share)
        self.layout().setStretchFactor(self.wafer, wafer_share)

    # -- fed by the window on the controller's behalf ---------------------------------------------

    def request_start(self, t_s: float) -> None:
        self.metrics.on_request_start(t_s)
        self.panel.bind(self.metrics)

    def tokens(self, count: int, t_s: float, draft: int) -> None:
        self.metrics.on_tokens(count, t_s, draft)

    def first_paint(self, t_s: float) -> None:
        self.metrics.on_first_paint(t_s)
        # A fast edit can end before its first frame is painted: the panel has stopped following
        # by then, so draw the TTFT now rather than leave it blank.
        self.panel.show_once(self.metrics)

    def done(self, stats: DoneStats) -> float | None:
        """The request ended: the final reading stays; returns its speed figure (tok/s)."""
        self.metrics.on_done(stats)
        self.panel.tick()
        self.panel.bind(None)  # the final reading stays on screen; no 60 Hz timer while idle
        return shown_rate(self.metrics.snapshot(time.perf_counter()))

    def snapshot(self) -> MetricsSnapshot:
        return self.metrics.snapshot(time.perf_counter())

    def feed_tiles(self, msg: dict[str, Any]) -> None:
        if isinstance(msg.get("layout"), dict):
            self.wafer.set_layout(msg["layout"])
        if isinstance(msg.get("frame"), dict):
            self.wafer.show_frame(msg["frame"])
