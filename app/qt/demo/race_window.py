"""The race window: the same edit streaming side by side in two or three lanes.

Each lane shows its label, an honest provenance line (emulated, from which profile and model
shape, or real), the live diff, and big figures: live tok/s, TTFT and the finish time, all on
the engine's clock. When every lane has ended, a banner gives the winner's margin.
Signals: `raceFinished(str)` with the margin text once all lanes ended.
"""

from __future__ import annotations

import asyncio
import html
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.core.demo.race import LaneProgress, LaneSpec, format_seconds, race_margin
from app.core.demo.race_run import RaceEdit, RaceRun
from app.core.link.client import EngineClient
from app.qt.widgets.diffview import LiveDiffView

REFRESH_MS = 100  # figures refresh at 10 Hz: readable, and the clock visibly runs
LAG_NOTICE_SHARE = 0.05  # a lag above this share of the lane's finish time is shown in red

RACE_STYLE = """
QWidget#race { background: #0d1117; color: #f0f3f6; }
QLabel { color: #f0f3f6; }
QLabel#raceCaption { font-size: %(margin)dpx; font-weight: bold; background: #0b3d91; padding: 8px 12px; }
QLabel#raceTitle { font-size: %(title)dpx; font-weight: bold; padding: 6px 10px; }
QLabel#laneLabel { font-size: %(label)dpx; font-weight: bold; }
QLabel#laneProvenance { font-size: %(small)dpx; color: #f2cc60; }
QLabel#laneProvenance[real="true"] { color: #7ee787; }
QLabel#figure { font-size: %(figure)dpx; font-weight: bold; color: #ffffff; }
QLabel#figureCaption { font-size: %(small)dpx; color: #d0d7de; }
QLabel#laneLag { font-size: %(small)dpx; color: #d0d7de; }
QLabel#laneLag[significant="true"] { color: #ff7b72; }
QLabel#margin { font-size: %(margin)dpx; font-weight: bold; color: #0d1117; background: #7ee787;
    padding: 10px; border-radius: 6px; }
QFrame#lane { border: 2px solid #3d4756; border-radius: 8px; background: #161b22; }
QFrame#lane[winner="true"] { border: 4px solid #7ee787; }
"""


def race_style(scale: float = 1.0, lanes: int = 2) -> str:
    """Sizes for ``lanes`` lanes side by side: three lanes get narrower figures and headlines."""
    narrow = 0.75 if lanes >= 3 else 1.0
    sizes = {"title": 22, "label": 26 * narrow, "small": 17, "figure": 40 * narrow, "margin": 28 * narrow}
    return RACE_STYLE % {k: round(v * scale) for k, v in sizes.items()}


class LaneView(QFrame):
    """One lane: label, provenance, diff, figures."""

    def __init__(self, spec: LaneSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lane")
        self.spec = spec
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # lanes share the width
        self.label = QLabel(spec.label, self)
        self.label.setObjectName("laneLabel")
        self.label.setWordWrap(True)
        self.provenance = QLabel(spec.provenance(), self)
        self.provenance.setObjectName("laneProvenance")
        self.provenance.setProperty("real", not spec.paced)
        self.provenance.setWordWrap(True)
        self.diff = LiveDiffView(self)
        self.tok_s = self._figure("tok/s")
        self.ttft = self._figure("TTFT")
        self.finish = self._figure("finish")
        figures = QHBoxLayout()
        for value, caption in (self.tok_s, self.ttft, self.finish):
            column = QVBoxLayout()
            column.addWidget(value)
            column.addWidget(caption)
            figures.addLayout(column)
        self.lag = QLabel("", self)
        self.lag.setObjectName("laneLag")
        self.lag.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.provenance)
        layout.addWidget(self.diff, 1)
        layout.addLayout(figures)
        layout.addWidget(self.lag)

    def _figure(self, caption: str) -> tuple[QLabel, QLabel]:
        value = QLabel("–", self)
        value.setObjectName("figure")
        value.setMinimumWidth(1)  # a long figure is clipped in its own column, never widens the lane
        value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        cap = QLabel(caption, self)
        cap.setObjectName("figureCaption")
        cap.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return value, cap

    def show_progress(self, lane: LaneProgress, now_ms: float) -> None:
        """Figures of ``lane``; ``now_ms`` is the app's estimate of the engine clock, for the live
        rate and the running clock only (final figures are the engine's own times)."""
        if lane.finished:
            rate = lane.decode_tok_s()
            self.tok_s[0].setText(f"{rate:,.0f}" if rate is not None else "–")
            self.tok_s[1].setText("tok/s (decode)")
            self.finish[0].setText(format_seconds(lane.finish_ms) if lane.finish_ms is not None else "–")
            self.finish[1].setText("finished" if lane.reason == "eos" else f"ended: {lane.reason}")
            if lane.lag_ms >= 1.0:
                self.lag.setText(f"real compute trailed the emulated pace by up to {lane.lag_ms:,.0f} ms")
                # Red where the lag is a visible part of the lane's time, not a few ms of a second.
                significant = lane.finish_ms is None or lane.lag_ms > LAG_NOTICE_SHARE * lane.finish_ms
                self.lag.setProperty("significant", significant)
                self.lag.style().unpolish(self.lag)
                self.lag.style().polish(self.lag)
        else:
            self.tok_s[0].setText(f"{lane.live_tok_s(now_ms):,.0f}")
            self.finish[0].setText(format_seconds(now_ms) if now_ms > 0 else "–")
            self.finish[1].setText("running…")
        if lane.ttft_ms is not None:
            self.ttft[0].setText(f"{lane.ttft_ms:,.0f} ms" if lane.ttft_ms >= 10 else f"{lane.ttft_ms:.1f} ms")

    def set_winner(self, winner: bool) -> None:
        self.setProperty("winner", winner)
        self.style().unpolish(self)
        self.style().polish(self)


class RaceWindow(QWidget):
    raceFinished = Signal(str)

    def __init__(self, lanes: tuple[LaneSpec, ...], parent: QWidget | None = None, scale: float = 1.0) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("race")
        self.setWindowTitle("Race — Tessera")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.specs = lanes
        self.caption = QLabel("", self)  # a playlist step's caption, when one runs the race
        self.caption.setObjectName("raceCaption")
        self.caption.setWordWrap(True)
        self.caption.hide()
        self.title = QLabel("", self)
        self.title.setObjectName("raceTitle")
        self.title.setWordWrap(True)
        self.lane_views = [LaneView(spec, self) for spec in lanes]
        row = QHBoxLayout()
        for view in self.lane_views:
            row.addWidget(view, 1)
        self.margin = QLabel("", self)
        self.margin.setObjectName("margin")
        self.margin.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.margin.setWordWrap(True)
        self.margin.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.title)
        layout.addLayout(row, 1)
        layout.addWidget(self.margin)
        self.set_scale(scale)
        self.run: RaceRun | None = None
        self.task: asyncio.Task[Any] | None = None
        self._started_s = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        stop = QShortcut(QKeySequence("Esc"), self)
        stop.activated.connect(self.stop)
        self.resize(1600, 900)

    def set_scale(self, scale: float) -> None:
        self.setStyleSheet(race_style(scale, len(self.specs)))
        for view in self.lane_views:
            font = view.diff.font()
            font.setPointSizeF(14 * scale * (0.8 if len(self.specs) >= 3 else 1.0))
            view.diff.setFont(font)

    def set_caption(self, header: str, caption: str) -> None:
        self.caption.setText(f"{html.escape(caption, quote=False)}<div style='font-size: small; font-weight: normal'>"
                             f"{html.escape(header, quote=False)}</div>")
        self.caption.show()

    def start(self, client: EngineClient, edit: RaceEdit, first_line: int = 1) -> asyncio.Task[Any]:
        """Start every lane together on ``client``; returns the task that ends with the race."""
        self.title.setText(f"Race: “{edit.instruction}” — the same edit, {len(self.specs)} pacings, started together")
        original = edit.text[edit.selection[0]:edit.selection[1]]
        for view in self.lane_views:
            view.diff.set_language_for(edit.path or "x.py")
            view.diff.set_first_line(first_line)
            view.diff.begin(original)
            view.set_winner(False)
            view.lag.setText("")
        self.margin.hide()
        self.run = RaceRun(client, edit, self.specs, self._on_message)
        self._started_s = time.perf_counter()
        self._timer.start()
        self.task = asyncio.ensure_future(self._run())
        return self.task

    async def _run(self) -> None:
        try:
            lanes = await self.run.run()
        finally:
            self._timer.stop()
        self.refresh()
        text = race_margin(lanes) or ""
        ranked = [lane for lane in lanes if lane.reason == "eos" and lane.finish_ms is not None]
        if ranked:
            best = min(ranked, key=lambda lane: lane.finish_ms)
            for view, lane in zip(self.lane_views, lanes):
                view.set_winner(lane is best and len(ranked) > 1)
        self.margin.setText(text)
        self.margin.setVisible(bool(text))
        self.raceFinished.emit(text)

    def _on_message(self, i: int, msg: dict[str, Any]) -> None:
        view = self.lane_views[i]
        kind = msg.get("type")
        if kind == "token":
            view.diff.feed(str(msg.get("text", "")), int(msg.get("draft") or 0))
        elif kind == "done" and msg.get("reason") != "redirect":
            view.diff.finish(msg.get("reason") == "stop")
            self.refresh()
        elif kind == "error":
            view.diff.finish(True)
            view.lag.setText(f"error: {msg.get('message', msg.get('code'))}")

    def refresh(self) -> None:
        if self.run is None:
            return
        now_ms = (time.perf_counter() - self._started_s) * 1000.0
        for view, lane in zip(self.lane_views, self.run.lanes):
            view.show_progress(lane, now_ms)

    def stop(self) -> None:
        if self.run is not None and self.task is not None and not self.task.done():
            asyncio.ensure_future(self.run.stop())

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        self.stop()
        self._timer.stop()
        super().closeEvent(event)
