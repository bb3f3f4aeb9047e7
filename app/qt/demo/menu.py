"""The main window's View menu: presentation mode, race this edit, play a demo playlist.

`DemoControls` is what the window's demo features hang on: the race lanes (default 8× H100 vs
WSE-3, both emulating Llama 3.1 70B; `--race` changes them), the open race windows and the
playlist being played.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from app.core.demo.playlist import DEMOS_DIR, Playlist, PlaylistError, load_playlist, shipped_playlists
from app.core.demo.race import DEFAULT_LANES, LaneSpec
from app.core.demo.race_run import RaceEdit
from app.core.edit.targeting import choose_target
from app.qt.demo.race_window import RaceWindow
from app.qt.dialogs.files import file_dialog
from app.qt.presentation import PRESENTATION_SCALE


class DemoControls:
    """Race and playlist actions of one main window (see the module docstring)."""

    def __init__(self, window) -> None:
        self.window = window
        self.lanes: tuple[LaneSpec, ...] = DEFAULT_LANES
        self.race_window: RaceWindow | None = None
        self.player = None  # the PlaylistPlayer being played, if any
        window.gauges.profile_label.setWordWrap(True)  # "Hardware: <model> on <machine> (emulated)"
        self._style_menu_bar(window.presentation)
        window.presentation_action.toggled.connect(self._style_menu_bar)
        menu = window.menuBar().addMenu("&View")
        menu.addAction(window.presentation_action)
        self.race_action = QAction("Race this edit", window, shortcut=QKeySequence("Ctrl+Shift+R"))
        self.race_action.setToolTip("The instruction in the bar, on the selected code, in side-by-side lanes")
        self.race_action.triggered.connect(lambda: self.race_current())
        menu.addAction(self.race_action)
        demos = menu.addMenu("Play a demo")
        for name, path in shipped_playlists().items():
            demos.addAction(name, lambda p=path: self.play(p))
        demos.addAction("Open a playlist…", self.ask_playlist)

    def _style_menu_bar(self, presentation: bool) -> None:
        px = round(14 * (PRESENTATION_SCALE if presentation else 1.0))
        self.window.menuBar().setStyleSheet(
            f"QMenuBar {{ background: #1f2630; color: #e6edf3; font-size: {px}px; }}"
            f"QMenuBar::item:selected {{ background: #1f6feb; }}"
            f"QMenu {{ font-size: {px}px; }}")

    # -- race ------------------------------------------------------------------------------------

    def race_current(self) -> asyncio.Task[Any] | None:
        """Race the instruction in the bar (or the last one sent) on the window's target."""
        w = self.window
        entries = w.controller.history.entries
        instruction = w.bar.field.text().strip() or (entries[-1] if entries else "")
        if not instruction:
            w.show_status("Type the instruction to race in the bar (Ctrl+K), then Ctrl+Shift+R.", "warn")
            return None
        text = w.document_text()
        target = choose_target(text, *w.selection(), w.language())
        return self.race(RaceEdit(text, (target.start, target.end), instruction, w.language(), w.path),
                         self.lanes)

    def set_lanes(self, lanes: tuple[LaneSpec, ...]) -> None:
        """The lanes View → Race this edit runs (`--race`)."""
        self.lanes = lanes

    def race(self, edit: RaceEdit, lanes: tuple[LaneSpec, ...]) -> asyncio.Task[Any] | None:
        w = self.window
        client = w.controller.engine.client
        if client is None or not client.connected:
            w.show_status("No engine is connected: a race needs one.", "error")
            return None
        if self.race_window is not None:
            self.race_window.close()
            self.race_window.deleteLater()
        scale = PRESENTATION_SCALE if w.presentation else 1.0
        self.race_window = RaceWindow(lanes, w, scale)
        if self.player is not None:
            self.player.bind_keys(self.race_window)
        if w.presentation:
            self.race_window.setGeometry(w.screen().geometry())
            self.race_window.showFullScreen()
        else:
            self.race_window.show()
        first_line = text_line(edit.text, edit.selection[0])
        w.show_status(f"Racing “{edit.instruction}” in {len(lanes)} lanes.")
        return self.race_window.start(client, edit, first_line)

    # -- playlists -------------------------------------------------------------------------------

    def ask_playlist(self) -> None:
        dialog = file_dialog(self.window, "Open a demo playlist", directory=str(DEMOS_DIR))
        dialog.setNameFilter("Demo playlists (*.toml)")
        dialog.fileSelected.connect(self.play)
        dialog.open()

    def play(self, path_or_playlist: str | Path | Playlist):
        """Start playing a playlist (its first step runs at once); None if it cannot be loaded."""
        from app.qt.demo.playlist_player import PlaylistPlayer  # late: the player needs this module's race()

        try:
            playlist = path_or_playlist if isinstance(path_or_playlist, Playlist) else load_playlist(path_or_playlist)
        except PlaylistError as exc:
            self.window.show_status(str(exc), "error")
            return None
        if self.player is not None:
            self.player.close()
        self.player = PlaylistPlayer(self, playlist)
        self.player.advance()
        return self.player


def text_line(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


__all__ = ["DemoControls", "text_line"]
