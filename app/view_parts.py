"""The window's right-hand column (gauges, wafer view) and small helpers for the main window."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .metrics import StreamMetrics
from .placeholders import Readout
from .widgets.wafer_view import WaferView

REFRESH_MS = 33  # gauge refresh while streaming (~30 Hz; the diff pane has its own frame timer)

_LANGUAGES = {".py": "python", ".pyi": "python", ".js": "javascript", ".ts": "typescript",
              ".rs": "rust", ".go": "go", ".c": "c", ".h": "c", ".cpp": "cpp", ".java": "java",
              ".rb": "ruby", ".sh": "bash", ".md": "markdown", ".json": "json", ".toml": "toml"}


def language_for_path(path: str | None) -> str:
    """The language name sent to the engine; Python for unsaved buffers (the common case)."""
    if not path:
        return "python"
    return _LANGUAGES.get(Path(path).suffix.lower(), "text")


class GaugeColumn(QWidget):
    """tok/s and TTFT gauges, the wafer view; owns the request's `StreamMetrics`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gauges")
        self.setMinimumWidth(280)
        self.metrics = StreamMetrics()
        self.profile_label = QLabel("Hardware: this machine", self)
        self.profile_label.setObjectName("gaugeCaption")
        self.target_label = QLabel("", self)
        self.target_label.setObjectName("gaugeCaption")
        self.target_label.setWordWrap(True)
        self.speed = Readout("tok/s", self)
        self.average = Readout("average", self)
        self.ttft = Readout("TTFT", self)
        self.engine_ttft = Readout("engine TTFT", self)
        self.wafer = WaferView(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        for widget in (self.profile_label, self.target_label, self.speed, self.average,
                       self.ttft, self.engine_ttft):
            layout.addWidget(widget)
        layout.addWidget(self.wafer, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    def set_profile(self, label: str) -> None:
        self.profile_label.setText(f"Hardware: {label}")

    def set_target(self, label: str) -> None:
        self.target_label.setText(f"Target: {label}")

    def set_scale(self, scale: float) -> None:
        for widget in (self.speed, self.average, self.ttft, self.engine_ttft,
                       self.profile_label, self.target_label):
            font = QFont(widget.font())
            base = widget.property("basePointSize") or font.pointSizeF()
            widget.setProperty("basePointSize", base)
            font.setPointSizeF(base * scale)
            widget.setFont(font)

    # -- fed by the window on the controller's behalf ---------------------------------------------

    def request_start(self, t_s: float) -> None:
        self.metrics.on_request_start(t_s)
        self._timer.start()
        self.refresh()

    def tokens(self, count: int, t_s: float, draft: int) -> None:
        self.metrics.on_tokens(count, t_s, draft)

    def first_paint(self, t_s: float) -> None:
        self.metrics.on_first_paint(t_s)

    def done(self, stats: dict[str, Any]) -> None:
        self.metrics.on_done(stats)
        self._timer.stop()
        self.refresh()

    def refresh(self) -> None:
        snap = self.metrics.snapshot(time.perf_counter())
        self.speed.set_value(f"{snap.instant_tok_s:,.0f}" if snap.streaming else "–")
        self.average.set_value(f"{snap.average_tok_s:,.0f} tok/s" if snap.average_tok_s else "–")
        self.ttft.set_value(f"{snap.ttft_ms:,.0f} ms" if snap.ttft_ms is not None else "–")
        self.engine_ttft.set_value(f"{snap.engine_ttft_ms:,.1f} ms" if snap.engine_ttft_ms is not None else "–")

    def feed_tiles(self, msg: dict[str, Any]) -> None:
        if isinstance(msg.get("layout"), dict):
            self.wafer.set_layout(msg["layout"])
        frame = msg.get("frame") if isinstance(msg.get("frame"), dict) else msg
        self.wafer.show_frame(frame)
