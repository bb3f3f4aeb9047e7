"""The window's right-hand column (gauges, wafer view) and small helpers for the main window."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .metrics import MetricsSnapshot, StreamMetrics
from .widgets.gauges import MetricsPanel
from .widgets.wafer_view import WaferView

_LANGUAGES = {".py": "python", ".pyi": "python", ".js": "javascript", ".ts": "typescript",
              ".rs": "rust", ".go": "go", ".c": "c", ".h": "c", ".cpp": "cpp", ".java": "java",
              ".rb": "ruby", ".sh": "bash", ".md": "markdown", ".json": "json", ".toml": "toml"}


def language_for_path(path: str | None) -> str:
    """The language name sent to the engine; Python for unsaved buffers (the common case)."""
    if not path:
        return "python"
    return _LANGUAGES.get(Path(path).suffix.lower(), "text")


class GaugeColumn(QWidget):
    """Hardware and target captions, the metrics panel (tok/s, TTFT, timeline), the wafer view.

    Owns the request's `StreamMetrics`; the panel follows it at 60 Hz while a request streams.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gauges")
        self.setMinimumWidth(300)
        self.metrics = StreamMetrics()
        self.profile_label = QLabel("Hardware: this machine", self)
        self.profile_label.setObjectName("gaugeCaption")
        self.target_label = QLabel("Target: –", self)
        self.target_label.setObjectName("gaugeCaption")
        self.target_label.setWordWrap(True)
        self.panel = MetricsPanel(self)
        self.wafer = WaferView(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.profile_label)
        layout.addWidget(self.target_label)
        layout.addWidget(self.panel, 3)
        layout.addWidget(self.wafer, 2)

    def set_profile(self, label: str, name: str = "local") -> None:
        self.profile_label.setText(f"Hardware: {label}")
        # This machine has no emulated wafer to show: give the room to the gauges.
        self.wafer.setVisible(name != "local")

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

    def done(self, stats: dict[str, Any]) -> None:
        self.metrics.on_done(stats)
        self.panel.tick()
        self.panel.bind(None)  # the final reading stays on screen; no 60 Hz timer while idle

    def snapshot(self) -> MetricsSnapshot:
        return self.metrics.snapshot(time.perf_counter())

    def feed_tiles(self, msg: dict[str, Any]) -> None:
        if isinstance(msg.get("layout"), dict):
            self.wafer.set_layout(msg["layout"])
        if isinstance(msg.get("frame"), dict):
            self.wafer.show_frame(msg["frame"])
