"""Plays a demo playlist in the main window: a caption bar on top, one key for the next step.

Page Down (what a presenter's clicker sends) or F12 runs the next step. Each step does what a
presenter would do by hand, through the same controller: open the file, select the code, pick the
pacing, type the instruction, press Enter; Stop and redirect at a token count; accept or reject
hunks; open a race. A step that cannot run (a profile this engine does not offer, a function that is
not in the file) says why in the caption bar, and the next key press moves on.
Signals: `stepStarted(int)` (0-based index) when a step begins.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.core.demo.playlist import Playlist, PlaylistError, Step, selection_range
from app.core.demo.race_run import RaceEdit
from app.core.edit.states import Mode

NEXT_KEYS = ("PgDown", "F12")  # a clicker's "next", and a key no widget of the window uses
WATCH_MS = 5  # how often a stop/steer step checks the token count (ms); paced streams are slower

CAPTION_STYLE = """
QWidget#captionBar { background: #0b3d91; border-bottom: 2px solid #58a6ff; }
QLabel#captionStep { color: #c9d1e0; font-size: %(small)dpx; }
QLabel#captionText { color: #ffffff; font-size: %(big)dpx; font-weight: bold; }
QLabel#captionText[error="true"] { color: #ffb4ab; }
"""


class CaptionBar(QWidget):
    """Step k of n, the playlist's title, and the step's caption in large type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("captionBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.step_label = QLabel("", self)
        self.step_label.setObjectName("captionStep")
        self.text_label = QLabel("", self)
        self.text_label.setObjectName("captionText")
        self.text_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 10)
        layout.setSpacing(2)
        layout.addWidget(self.step_label)
        layout.addWidget(self.text_label)
        self.set_scale(1.0)

    def set_scale(self, scale: float) -> None:
        self.setStyleSheet(CAPTION_STYLE % {"small": round(15 * scale), "big": round(24 * scale)})

    def show_step(self, header: str, caption: str, error: bool = False) -> None:
        self.step_label.setText(header)
        self.text_label.setText(caption)
        self.text_label.setProperty("error", error)
        self.text_label.style().unpolish(self.text_label)
        self.text_label.style().polish(self.text_label)


class PlaylistPlayer(QObject):
    stepStarted = Signal(int)

    def __init__(self, controls, playlist: Playlist) -> None:
        super().__init__(controls.window)
        self.controls = controls
        self.window = window = controls.window
        self.playlist = playlist
        self.index = -1  # the step shown now
        self.errors: list[str] = []  # why steps could not run, in order
        self.caption = CaptionBar(window)
        window.centralWidget().layout().insertWidget(0, self.caption)
        self.caption.show()  # a child added to a shown window stays hidden until shown
        self._shortcuts: list[QShortcut] = []
        self.bind_keys(window)
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._check_tokens)
        self._steer_pending: str | None = None
        self._run_before: object | None = None  # the controller's run when the step's edit was sent
        window.presentation_action.toggled.connect(self._rescale)
        self._rescale(window.presentation)

    def bind_keys(self, widget: QWidget) -> None:
        """The next-step keys on ``widget`` too (the race window has the focus during a race)."""
        for keys in NEXT_KEYS:
            shortcut = QShortcut(QKeySequence(keys), widget)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.advance)
            self._shortcuts.append(shortcut)

    def _rescale(self, on: bool) -> None:
        self.caption.set_scale(1.5 if on else 1.0)

    def close(self) -> None:
        self._watch.stop()
        for shortcut in self._shortcuts:
            shortcut.setEnabled(False)
        self.caption.hide()
        self.caption.deleteLater()

    # -- stepping --------------------------------------------------------------------------------

    @property
    def step(self) -> Step | None:
        return self.playlist.steps[self.index] if 0 <= self.index < len(self.playlist.steps) else None

    def advance(self) -> bool:
        """Run the next step; False at the end of the playlist."""
        if self.index + 1 >= len(self.playlist.steps):
            self.caption.show_step(f"{self.playlist.title} · the end", "End of the demo. Thank you!")
            return False
        self._watch.stop()
        self.index += 1
        step = self.playlist.steps[self.index]
        race = self.controls.race_window
        if race is not None and race.isVisible() and step.kind != "race":
            race.close()  # back to the main window
        header = f"Step {self.index + 1} of {len(self.playlist.steps)} · {self.playlist.title} · PgDn: next"
        self.caption.show_step(header, step.caption)
        self.stepStarted.emit(self.index)
        try:
            self._run(step)
        except PlaylistError as exc:
            self.errors.append(str(exc))
            self.caption.show_step(header, f"{step.caption} — cannot run this step: {exc}", error=True)
        return True

    def _run(self, step: Step) -> None:
        w, c = self.window, self.window.controller
        if step.kind in ("edit", "race") or (step.kind == "caption" and step.selection is not None):
            self._open_and_select(step)
        if step.kind == "caption":
            return
        if step.kind == "edit":
            self._set_pacing(step)
            if c.mode == Mode.STREAMING:
                raise PlaylistError("the previous edit is still streaming")
            w.bar.field.setText(step.instruction)
            self._run_before = c.run
            c.submit(step.instruction)
            w.bar.field.clear()
            self._steer_pending = step.steer
            if step.stop_after_tokens or step.steer:
                self._watch.start()
        elif step.kind == "redirect":
            if c.run is None:
                raise PlaylistError("there is no edit to redirect")
            c.submit(step.instruction)
        elif step.kind == "review":
            if c.run is None or c.diff is None:
                raise PlaylistError("there is no edit to review")
            finals = len(c.diff.final_hunks)
            for indices, act in ((step.accept, c.accept_hunks), (step.reject, c.reject_hunks)):
                chosen = c.unresolved_final() if indices == "all" else list(indices)
                missing = [i + 1 for i in chosen if i >= finals]
                if missing:
                    raise PlaylistError(f"the edit has {finals} change(s); there is no change {missing}")
                act(chosen)
        elif step.kind == "race":
            text = w.document_text()
            start, end = w.selection()
            self.controls.race(RaceEdit(text, (start, end), step.instruction, w.language(), w.path), step.lanes)
            if self.controls.race_window is not None:
                header = f"Step {self.index + 1} of {len(self.playlist.steps)} · {self.playlist.title} · PgDn: next"
                self.controls.race_window.set_caption(header, step.caption)

    def _open_and_select(self, step: Step) -> None:
        w = self.window
        if step.file is not None and (w.path is None or Path(w.path) != step.file):
            w.editor.document().setModified(False)  # a demo file is shown, never saved over
            if not w.open_path(str(step.file)):
                raise PlaylistError(f"cannot open {step.file}")
        start, end = selection_range(w.document_text(), step.selection)
        cursor = w.editor.textCursor()
        cursor.setPosition(start)
        cursor.setPosition(end, cursor.MoveMode.KeepAnchor)
        w.editor.setTextCursor(cursor)
        w.editor.centerCursor()

    def _set_pacing(self, step: Step) -> None:
        """Set the Hardware box to the step's pairing (profile + emulated model), as a user would."""
        w = self.window
        spec = step.pacing
        if not w.toolbar.select_profile(spec.profile):
            offered = [w.toolbar.profile_combo.itemData(i) for i in range(w.toolbar.profile_combo.count())]
            raise PlaylistError(f"this engine offers no hardware profile {spec.profile!r} "
                                f"(it offers {', '.join(map(str, offered))})")
        if spec.paced:
            w.toolbar.select_emulated(spec.emulate or "")  # a preset the box does not list still
        # The profile reaches the engine, which checks it.
        w.controller.configure(profile=spec.profile, emulate=spec.emulate if spec.paced else None)
        w.gauges.set_profile(f"{spec.label} ({'emulated' if spec.paced else 'real speed'})", spec.profile)

    def _check_tokens(self) -> None:
        c, step = self.window.controller, self.step
        run = c.run
        if step is None or run is None or run is self._run_before:
            return  # the step's edit has not started yet
        limit = step.stop_after_tokens or step.steer_after_tokens or 0
        if c.mode == Mode.STREAMING and not run.stopped and run.tokens >= limit:
            c.stop()
        elif c.mode == Mode.STOPPED and self._steer_pending:
            # Steering: the stop has landed; the redirect continues from what was shown.
            instruction, self._steer_pending = self._steer_pending, None
            self.window.bar.field.setText(instruction)
            c.submit(instruction)
            self.window.bar.field.clear()
            self._watch.stop()
        elif c.mode != Mode.STREAMING and not self._steer_pending:
            self._watch.stop()
