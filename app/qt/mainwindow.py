"""The main window: toolbar · editor | live diff | gauges · instruction bar · status line.

A passive view for `EditController`: the window turns clicks and keys into controller calls, and
its `edit_view` (`app.qt.window_view.WindowView`, the `EditView` the controller drives) turns
controller calls into widget updates. It does not build its controller: `app.qt.assembly.assemble`
builds window, controller and engine link and binds them (`bind`). "Run tests" is
`app.qt.test_runner`; the file commands (open, save, close) are here. Signals:
`modelFolderChosen(str)` when the user picks another model folder, `closing()` once the window
really closes (after any unsaved-changes question).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QSplitter, QVBoxLayout, QWidget

from app.core.edit.controller import EditController
from app.core.edit.outcome import OUT_OF_SCOPE, OVERFLOW, UNCHANGED
from app.core.edit.quick_actions import QuickAction, actions_for, fill
from app.core.edit.states import Mode
from app.core.link.client import EngineInfo
from app.qt.demo.menu import DemoControls
from app.qt.dialogs.files import APP_NAME, file_dialog
from app.qt.filekeeper import FileKeeper
from app.qt.instruction_bar import InstructionBar
from app.qt.menus import build_file_edit_menus, build_help_menu
from app.qt.presentation import apply_presentation
from app.qt.test_runner import TestRunner
from app.qt.toolbar import MainToolbar
from app.qt.view_parts import GaugeColumn, StatusLine, language_for_path
from app.qt.widgets.diffview import LiveDiffView
from app.qt.widgets.editor import CodeEditor
from app.qt.widgets.find_bar import FindBar
from app.qt.widgets.goto_bar import GotoLineBar
from app.qt.window_style import STATUS_COLORS, STYLE
from app.qt.window_view import WindowView

SYNC_DELAY_MS = 500  # after the last keystroke, tell the engine (prewarm) and re-measure context


class MainWindow(QMainWindow):
    modelFolderChosen = Signal(str)
    closing = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presentation = False
        self._normal_pane_sizes: list[int] | None = None  # pane widths (px) outside presentation mode
        self._allow_close = False
        self._font_scale = 1.0

        self.editor = CodeEditor(self)
        self.files = FileKeeper(self.editor, self, ask_save_as=self.ask_save_as)
        self.files.message.connect(self.show_status)
        self.files.loaded.connect(self._file_loaded)
        self.find_bar = FindBar(self.editor, self)  # Ctrl+F, F3
        self.goto_bar = GotoLineBar(self.editor, self)  # Ctrl+G
        self.goto_bar.message.connect(self.show_status)
        for search_bar in (self.goto_bar, self.find_bar):  # above the editor, below the file banner
            self.files.pane.layout().insertWidget(1, search_bar)
        self.diff_view = LiveDiffView(self)
        self.gauges = GaugeColumn(self)
        self.bar = InstructionBar(self)
        self.controller: EditController | None = None  # set by `bind`
        self.edit_view = WindowView(self)  # what the controller drives
        self.tests = TestRunner(self)  # "Run tests"

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.files.pane)
        splitter.addWidget(self.diff_view)
        splitter.addWidget(self.gauges)
        # The diff pane gets a little more than the editor: its gutter holds two line numbers and
        # its hunk headers the Accept / Reject buttons.
        splitter.setStretchFactor(0, 6)
        splitter.setStretchFactor(1, 7)
        splitter.setStretchFactor(2, 3)
        splitter.setSizes([600, 700, 300])
        self.splitter = splitter
        central = QWidget(self)
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.bar)
        self.setCentralWidget(central)
        self.setStyleSheet(STYLE)

        self._build_toolbar()
        self._build_status()
        self._sync_timer = QTimer(self)
        self._sync_timer.setSingleShot(True)
        self._sync_timer.setInterval(SYNC_DELAY_MS)
        self._sync_timer.timeout.connect(self._sync_now)
        self.resize(1400, 860)
        self._update_title()
        self.edit_view.set_mode(Mode.IDLE)

    def bind(self, controller: EditController) -> None:
        """Connect the widgets to the controller that drives this window (once, after construction)."""
        self.controller = controller
        self._connect()
        self._profile_changed(*self.toolbar.profile())
        build_file_edit_menus(self)
        self.demo = DemoControls(self)  # View menu: presentation, race, demo playlists
        build_help_menu(self)

    # -- construction --------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        tb = self.toolbar = MainToolbar(self)
        self.addToolBar(tb)
        tb.openRequested.connect(self.ask_open)
        tb.saveRequested.connect(self.save)
        tb.saveAsRequested.connect(self.ask_save_as)
        tb.modelFolderRequested.connect(self.ask_model_folder)
        tb.profileChanged.connect(self._profile_changed)
        tb.emulateChanged.connect(lambda model: self.controller.configure(emulate=model or None))
        tb.runTestsRequested.connect(self.tests.ask)
        tb.presentationToggled.connect(self.set_presentation)
        self.run_tests_action = tb.run_tests_action
        self.presentation_action = tb.presentation_action

    def _build_status(self) -> None:
        self.status_label = StatusLine("Starting the engine…", self)
        self.status_label.setObjectName("statusText")
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.mode_label = QLabel("", self)
        self.engine_label = QLabel("engine: –", self)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.mode_label)
        self.statusBar().addPermanentWidget(self.engine_label)

    def _connect(self) -> None:
        bar, c = self.bar, self.controller
        bar.submitted.connect(self._submitted)
        bar.stopRequested.connect(c.stop)
        bar.acceptAllRequested.connect(c.accept_all)
        bar.rejectAllRequested.connect(c.reject_all)
        bar.historyPrevious.connect(lambda: bar.field.setText(c.history.previous(bar.field.text())))
        bar.historyNext.connect(lambda: bar.field.setText(c.history.next(bar.field.text())))
        bar.quickActionChosen.connect(self._quick_action)
        self.diff_view.noticeActionClicked.connect(self._notice_action)
        self.diff_view.hunkAccepted.connect(lambda i: c.accept_hunks([i]))
        self.diff_view.hunkRejected.connect(lambda i: c.reject_hunks([i]))
        self.diff_view.acceptAllRequested.connect(c.accept_all)
        self.diff_view.rejectAllRequested.connect(c.reject_all)
        self.diff_view.undoRequested.connect(self.editor.undo)  # Ctrl+Z in the diff undoes the editor's
        self.diff_view.redoRequested.connect(self.editor.redo)
        doc = self.editor.document()
        doc.modificationChanged.connect(lambda _m: self._update_title())
        doc.contentsChanged.connect(self._text_changed)
        self.editor.selectionChanged.connect(self._sync_timer_restart)
        self.editor.cursorPositionChanged.connect(self._sync_timer_restart)  # keyboard moves too
        self.editor.undoMoved.connect(c.undo_moved)
        shortcuts: list[tuple[str, Callable[[], Any]]] = [
            ("Ctrl+K", self.focus_instruction), ("Esc", self._escape),
            ("Ctrl+Return", c.accept_all), ("Ctrl+Enter", c.accept_all),
            ("Ctrl+Shift+Backspace", c.reject_all),
        ]
        for keys, slot in shortcuts:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

    # -- user actions ----------------------------------------------------------------------------

    def focus_instruction(self) -> None:
        self.bar.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.bar.field.selectAll()

    def open_find(self) -> None:
        self.goto_bar.close_bar()
        self.find_bar.open_bar()

    def open_goto_line(self) -> None:
        self.find_bar.close_bar()
        self.goto_bar.open_bar()

    def _escape(self) -> None:
        """Esc stops a running edit; with none running it closes the find or go-to bar."""
        running = self.controller.mode == Mode.STREAMING or self.controller.starting
        self.controller.stop()
        if not running:
            self.find_bar.close_bar()
            self.goto_bar.close_bar()

    def _submitted(self, text: str) -> None:
        if self.editor.isReadOnly():
            self.show_status(self.files.read_only_reason or "The file is still loading.", "warn")
            return
        if self.controller.submit(text):
            self.bar.field.clear()

    def _quick_action(self, action: QuickAction) -> None:
        """A quick action fills the bar from the code at the cursor (e.g. the name to rename)."""
        self.bar.put(fill(action, self.document_text(), *self.selection()))

    def _notice_action(self, kind: str) -> None:
        if kind == OVERFLOW and self.controller.narrow_target():
            self.bar.field.setFocus(Qt.FocusReason.OtherFocusReason)  # Enter sends the kept instruction
            self.bar.field.end(False)
        elif kind in (OUT_OF_SCOPE, UNCHANGED):  # the model picker, under its button (popup: no nested event loop)
            button = self.toolbar.model_button
            self.toolbar.model_menu.popup(button.mapToGlobal(button.rect().bottomLeft()))

    def _profile_changed(self, name: str, label: str) -> None:
        self.controller.configure(profile=name)
        self.gauges.set_profile(label, name)

    def _text_changed(self) -> None:
        if self.files.loading:
            return
        self.controller.engine.document_changed()
        self._sync_timer_restart()

    def _sync_timer_restart(self) -> None:
        self._sync_timer.start()

    def _sync_now(self) -> None:
        self.controller.spawn(self._sync_and_measure())

    async def _sync_and_measure(self) -> None:
        c = self.controller
        if c.mode != Mode.STREAMING:
            await c.engine.sync_document()
        await c.engine.measure_context(self.bar.field.text())

    def set_presentation(self, on: bool) -> None:
        """Large type and high contrast for a projector, full screen (`app.qt.presentation`)."""
        self.presentation = on
        self._normal_pane_sizes = apply_presentation(self, on, self._normal_pane_sizes)

    # -- files -------------------------------------------------------------------------------------

    def ask_open(self) -> None:
        self.confirm_discard("opening another file", self._choose_file_to_open)

    def _choose_file_to_open(self) -> None:
        dialog = file_dialog(self, "Open a file", self.path)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.open_path)
        dialog.open()

    @property
    def path(self) -> str | None:
        return self.files.path

    @path.setter
    def path(self, value: str | None) -> None:
        self.files.reset(value)

    def start_new_file(self, path: str) -> None:
        """Edit a file that does not exist yet: Ctrl+S creates it at `path`."""
        self.path = path
        self._update_title()

    def open_path(self, path: str) -> bool:
        """Open a file (large ones load in parts); the engine gets it once it is all in."""
        if self.controller.mode == Mode.STREAMING:
            self.show_status("Stop the running edit before opening another file.", "warn")
            return False
        return self.files.open(path)

    def _file_loaded(self) -> None:
        self.diff_view.set_language_for(self.path)
        self.diff_view.clear()
        self.diff_view.clear_notice()
        self.controller.forget_run()
        self._update_title()
        self.edit_view.set_mode(Mode.IDLE)
        self.gauges.set_target("–")  # nothing of the previous file carries over
        self.bar.set_context(0, self.controller.engine.context_length, True)
        self._sync_timer_restart()
        ro = " · read-only" if self.editor.isReadOnly() else ""
        self.show_status(f"Opened {self.path} · {self.files.format_label()}{ro}")
        self.controller.spawn(self.controller.engine.open_document())

    def save(self) -> bool:
        if self.path is None:
            self.ask_save_as()
            return False
        return self.save_to(self.path)

    def ask_save_as(self) -> None:
        dialog = file_dialog(self, "Save as", self.path)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        if self.path:
            dialog.selectFile(Path(self.path).name)
        dialog.fileSelected.connect(self.save_to)
        dialog.open()

    def save_to(self, path: str) -> bool:
        if not self.files.save(path):
            return False
        self.editor.set_language_for(self.path)
        self._update_title()
        return True

    def _update_title(self) -> None:
        name = Path(self.path).name if self.path else "untitled"
        self.setWindowTitle(f"{name}[*] — {APP_NAME}")
        self.setWindowModified(self.editor.document().isModified())

    def ask_model_folder(self) -> None:
        dialog = file_dialog(self, "Choose a model folder")  # the last folder used, else home
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(self.modelFolderChosen)
        dialog.open()

    # -- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        if self._allow_close or not self.editor.document().isModified():
            self.files.discard_recovery()  # saved, or knowingly discarded
            self.stop_timers()
            self.closing.emit()
            event.accept()
            return
        event.ignore()
        self.confirm_discard("closing", self._close_now)

    def _close_now(self) -> None:
        self._allow_close = True
        self.close()

    def stop_timers(self) -> None:
        """No more timer-driven work (engine sync, gauge refresh): the window is going away."""
        self._sync_timer.stop()
        self.gauges.panel.bind(None)

    def confirm_discard(self, doing: str, then: Callable[[], Any]) -> QMessageBox | None:
        """Run `then` once unsaved changes are saved or knowingly discarded; Cancel keeps all.

        Returns the open question box (None when nothing was unsaved and `then` already ran).
        """
        if not self.editor.document().isModified():
            then()
            return None
        box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, f"Save your changes before {doing}?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("confirmDiscard")

        def answered(_result: int) -> None:
            answer = box.standardButton(box.clickedButton())
            if answer == QMessageBox.StandardButton.Save and self.save():
                then()
            elif answer == QMessageBox.StandardButton.Discard:
                then()

        box.finished.connect(answered)
        box.finished.connect(box.deleteLater)
        box.open()  # never a nested exec(): the engine's events keep flowing
        return box

    # -- engine info (from main) ---------------------------------------------------------------------

    def set_engine_info(self, info: EngineInfo | None, where: str = "") -> None:
        self.toolbar.set_engine_info(info)
        if info is None:
            self.engine_label.setText(f"engine: {where or 'not running'}")
            return
        self.engine_label.setText(f"engine: {where}  ·  {info.backend_label}  ·  context {info.context_length:,}")
        self.controller.engine.set_context_length(info.context_length)
        self.controller.engine.describe_model(info.model_name, info.skill_examples)
        what = (f"{info.model_name} was trained for these edits" if info.skills
                else f"{info.model_name} takes any instruction: these are examples")
        self.bar.set_actions(actions_for(info.skills, info.skill_examples), what)

    # -- the document and the status line (also what `edit_view` reads and writes) ------------------

    def document_text(self) -> str:
        return self.files.editor_text()

    def selection(self) -> tuple[int, int]:
        cursor = self.editor.textCursor()
        return self.files.from_qt(cursor.selectionStart()), self.files.from_qt(cursor.selectionEnd())

    def language(self) -> str:
        return language_for_path(self.path)

    def show_status(self, text: str, level: str = "info") -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(f"color: {STATUS_COLORS.get(level, STATUS_COLORS['info'])};")
        self.status_label.setToolTip(text)

    def keep_instruction(self, instruction: str) -> None:
        """A refused instruction goes back into the bar to be edited, unless another was typed."""
        if not self.bar.field.text().strip():
            self.bar.field.setText(instruction)
            self.bar.field.selectAll()
