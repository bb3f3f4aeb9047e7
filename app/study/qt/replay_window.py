"""`tessera study replay LOG`: watch a session again, scrub its timeline, add labels.

The diff pane replays the streamed edit as the participant saw it when the log holds the text
(``log_file_contents = true``); otherwise the event list and the figures tell the story. Labels
(CUPS-style activity names and a note) are saved next to the log and exported by `study export`.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QPushButton, QSplitter, QStackedWidget, QVBoxLayout, QWidget)

from app.core.edit.states import HunkState
from app.qt.widgets.diffview import LiveDiffView
from ..eventlog import read_log
from ..labels import labels_path, load_labels, save_labels
from ..timeline import SessionTimeline
from .questionnaire import RatingSlider

# Activity labels after CUPS (Mozannar et al., "Reading Between the Lines", 2022), shortened.
LABELS = ["thinking about / verifying a suggestion", "waiting for the suggestion", "writing the instruction",
          "editing the suggestion", "writing new code", "debugging / testing", "looking up documentation",
          "deferring thought", "other"]
STEP_MS = 10  # the scrubber's resolution


class ReplayWindow(QWidget):
    def __init__(self, log: str | Path, labels: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.log_path = Path(log)
        self.timeline = SessionTimeline(read_log(log).events)
        self.labels_file = Path(labels) if labels else labels_path(self.log_path)
        self.labels = load_labels(self.labels_file)
        tl = self.timeline
        self.setWindowTitle(f"Replay: {tl.study}, participant {tl.participant} — Tessera")
        self.setStyleSheet("QWidget { background: #1e1f22; color: #e6e6e6; font-size: 14px; }"
                           "QLabel#head { font-size: 18px; font-weight: 600; }"
                           "QListWidget { background: #26272b; }"
                           "QLabel#noText { font-size: 17px; color: #c9d6ea; padding: 40px; }"
                           "QSlider::groove:horizontal { height: 8px; background: #4a4d55; border-radius: 4px; }"
                           "QSlider::sub-page:horizontal { background: #2f6fd6; border-radius: 4px; }"
                           "QSlider::handle:horizontal { width: 16px; margin: -6px 0; border-radius: 8px;"
                           " background: #9cc3ff; }"
                           "QPushButton { padding: 5px 12px; background: #3a3d44; }")
        self.head = QLabel("", self)
        self.head.setObjectName("head")
        self.figures = QLabel("", self)
        self.diff = LiveDiffView(self)
        self.no_text = QLabel(
            "This study did not log file contents (log_file_contents = false), so the streamed code "
            "cannot be shown here. The figures above and the event list follow the session; "
            "double-click an event to go to it.", self)
        self.no_text.setObjectName("noText")
        self.no_text.setWordWrap(True)
        self.no_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.left = QStackedWidget(self)
        self.left.addWidget(self.diff)
        self.left.addWidget(self.no_text)
        self.left.setCurrentWidget(self.diff if tl.has_text else self.no_text)
        self.events = QListWidget(self)
        self.events.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.label_list = QListWidget(self)
        right = QWidget(self)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(QLabel("Events", right))
        rl.addWidget(self.events, 3)
        rl.addWidget(QLabel("Labels", right))
        rl.addWidget(self.label_list, 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.left)
        split.addWidget(right)
        split.setSizes([1100, 700])
        self.play = QPushButton("Play", self)
        self.speed = QComboBox(self)
        self.speed.addItems(["1×", "2×", "4×", "0.25×"])
        self.slider = RatingSlider(self)  # jumps to the click, like any media scrubber
        self.slider.setRange(0, max(1, int((tl.end - tl.start) * 1000 / STEP_MS)))
        self.clock = QLabel("", self)
        self.label_kind = QComboBox(self)
        self.label_kind.addItems(LABELS)
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("note (optional)")
        self.add = QPushButton("Add label here", self)
        controls = QHBoxLayout()
        controls.addWidget(self.play)
        controls.addWidget(self.speed)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.clock)
        labelling = QHBoxLayout()
        labelling.addWidget(QLabel("Label:", self))
        labelling.addWidget(self.label_kind)
        labelling.addWidget(self.note, 1)
        labelling.addWidget(self.add)
        layout = QVBoxLayout(self)
        layout.addWidget(self.head)
        layout.addWidget(self.figures)
        layout.addWidget(split, 1)
        layout.addLayout(controls)
        layout.addLayout(labelling)
        for e in tl.events:
            self.events.addItem(QListWidgetItem(_describe(e, tl.start)))
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self._tick)
        self.play.clicked.connect(self.toggle_play)
        self.slider.valueChanged.connect(lambda _v: self.show_moment())
        self.add.clicked.connect(self.add_label)
        self.events.itemDoubleClicked.connect(lambda item: self.seek(self.timeline.events[self.events.row(item)]["t"]))
        self._shown_request = None
        self._refresh_labels()
        self.show_moment()

    def now(self) -> float:
        """The scrubber's moment, s on the log's clock."""
        return self.timeline.start + self.slider.value() * STEP_MS / 1000.0

    def seek(self, t: float) -> None:
        """Show the moment t (s on the log's clock), rounded up to the scrubber's step: an event at t shows."""
        self.slider.setValue(math.ceil((t - self.timeline.start) * 1000 / STEP_MS - 1e-9))

    def toggle_play(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.play.setText("Play")
        else:
            self._timer.start()
            self.play.setText("Pause")

    def _tick(self) -> None:
        factor = float(self.speed.currentText().rstrip("×"))
        self.slider.setValue(self.slider.value() + max(1, round(33 * factor / STEP_MS)))
        if self.slider.value() >= self.slider.maximum():
            self.toggle_play()

    def show_moment(self) -> None:
        tl = self.timeline
        m = tl.state_at(self.now())
        self.clock.setText(f"{self.now() - tl.start:7.2f} s / {tl.end - tl.start:.2f} s")
        where = f"task {m.position}: {m.task} — {m.condition}" if m.task else "between tasks"
        self.head.setText(f"{tl.study} · participant {tl.participant} · {where}")
        r = m.request
        if r is None:
            self.figures.setText("no request yet in this task")
        else:
            decided = list(r.decisions.values())
            self.figures.setText(
                f"request {r.request}: “{r.instruction}” · {r.tokens} tokens received"
                f"{' · stopped' if r.stopped else ''}{' · done' if r.ended else ' · streaming'}"
                f" · {len(r.redirects)} redirect(s) · {decided.count(HunkState.ACCEPTED)} accepted, "
                f"{decided.count(HunkState.REJECTED)} rejected")
        self._show_diff(r)
        if m.events_before:
            self.events.setCurrentRow(m.events_before - 1)

    def _show_diff(self, r) -> None:
        if r is None or r.original is None:
            self.diff.clear()
            return
        self.diff.begin(r.original)
        self.diff.set_first_line(r.first_line)
        cuts = dict(zip(r.feed_before_redirect, r.redirects))
        for i, (text, draft) in enumerate(r.chunks):
            if i in cuts:
                self.diff.mark_redirect(cuts[i])
            if text:
                self.diff.feed(text, draft)
        if r.ended:
            self.diff.finish(r.stopped)
            for index, state in r.decisions.items():
                self.diff.set_hunk_state(index, state)

    def add_label(self) -> dict:
        label = {"t": round(self.now(), 3), "label": self.label_kind.currentText(), "note": self.note.text().strip()}
        self.labels.append(label)
        save_labels(self.labels_file, self.labels)
        self.note.clear()
        self._refresh_labels()
        return label

    def _refresh_labels(self) -> None:
        self.label_list.clear()
        start = self.timeline.start
        for label in sorted(self.labels, key=lambda x: x["t"]):
            note = f" — {label['note']}" if label.get("note") else ""
            self.label_list.addItem(f"{label['t'] - start:8.2f} s  {label['label']}{note}")


def _describe(e: dict, start: float) -> str:
    skip = {"t", "kind", "conditions", "schedule", "text", "condition_detail", "answers"}
    detail = ", ".join(f"{k}={v}" for k, v in e.items() if k not in skip and v not in (None, ""))
    return f"{e['t'] - start:8.3f} s  {e['kind']:<22} {detail[:160]}"
