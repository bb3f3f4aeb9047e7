"""The main window: toolbar · editor | live diff | gauges · instruction bar · status line.

A passive view for `EditController` (it implements `app.core.edit.view.EditView`); the window only
turns clicks and keys into controller calls and controller calls into widget updates. It does not
build its controller: `app.qt.assembly.assemble` builds window, controller and engine link and
binds them (`bind`). Signals:
`modelFolderChosen(str)` when the user picks another model folder, `closing()` once the window
really closes (after any unsaved-changes question).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QTimer, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QSplitter, QVBoxLayout, QWidget

from app.core.diff.stream import DiffUpdate, Redirect, StreamingDiff
from app.core.edit.controller import EditController
from app.core.edit.outcome import OUT_OF_SCOPE, OVERFLOW
from app.core.edit.quick_actions import QuickAction, actions_for, fill
from app.core.edit.states import HunkState, Mode
from app.core.link.client import EngineInfo
from app.core.testrun import TestRunResult, guess_test_file, run_pytest
from app.qt.demo.menu import DemoControls
from app.qt.dialogs.files import file_dialog
from app.qt.dialogs.test_results import TestResultsDialog
from app.qt.filekeeper import FileKeeper
from app.qt.instruction_bar import InstructionBar
from app.qt.menus import build_file_edit_menus, build_help_menu
from app.qt.presentation import apply_presentation
from app.qt.toolbar import MainToolbar
from app.qt.view_parts import GaugeColumn, StatusLine, language_for_path
from app.qt.widgets.diffview import LiveDiffView
from app.qt.widgets.editor import CodeEditor
from app.qt.window_style import STATUS_COLORS, STYLE
from wire import DoneStats

APP_NAME = "Tessera"
SYNC_DELAY_MS = 500  # after the last keystroke, tell the engine (prewarm) and re-measure context
MODE_LABELS = {Mode.IDLE: "ready", Mode.STREAMING: "● streaming", Mode.STOPPED: "■ stopped",
               Mode.REVIEWING: "reviewing"}  # the status bar's mode field



class MainWindow(QMainWindow):
    modelFolderChosen = Signal(str)
    closing = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presentation = False
        self._normal_pane_sizes: list[int] | None = None  # pane widths (px) outside presentation mode
        self.last_test_result: TestRunResult | None = None
        self._allow_close = False
        self._font_scale = 1.0
        self._paint_callbacks: list[Callable[[], None]] = []  # waiting for the next diff frame
        self._test_dialog: TestResultsDialog | None = None

        self.editor = CodeEditor(self)
        self.files = FileKeeper(self.editor, self, ask_save_as=self.ask_save_as)
        self.files.message.connect(self.show_status)
        self.files.loaded.connect(self._file_loaded)
        self.diff_view = LiveDiffView(self)
        self.gauges = GaugeColumn(self)
        self.bar = InstructionBar(self)
        self.controller: EditController | None = None  # set by `bind`
        self._mode = Mode.IDLE

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
        self.set_mode(Mode.IDLE)

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
        tb.runTestsRequested.connect(self.ask_run_tests)
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
        self.diff_view.framePainted.connect(self._frame_painted)
        self.diff_view.undoRequested.connect(self.editor.undo)  # Ctrl+Z in the diff undoes the editor's
        self.diff_view.redoRequested.connect(self.editor.redo)
        doc = self.editor.document()
        doc.modificationChanged.connect(lambda _m: self._update_title())
        doc.contentsChanged.connect(self._text_changed)
        self.editor.selectionChanged.connect(self._sync_timer_restart)
        self.editor.cursorPositionChanged.connect(self._sync_timer_restart)  # keyboard moves too
        self.editor.undoMoved.connect(c.undo_moved)
        shortcuts: list[tuple[str, Callable[[], Any]]] = [
            ("Ctrl+K", self.focus_instruction), ("Esc", c.stop),
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
        elif kind == OUT_OF_SCOPE:  # the model picker, under its button (popup: no nested event loop)
            button = self.toolbar.model_button
            self.toolbar.model_menu.popup(button.mapToGlobal(button.rect().bottomLeft()))

    def _profile_changed(self, name: str, label: str) -> None:
        self.controller.configure(profile=name)
        self.gauges.set_profile(label, name)

    def _text_changed(self) -> None:
        if self.files.loading:
            return
        self.controller.document_changed()
        self._sync_timer_restart()

    def _sync_timer_restart(self) -> None:
        self._sync_timer.start()

    def _sync_now(self) -> None:
        self.controller.spawn(self._sync_and_measure())

    async def _sync_and_measure(self) -> None:
        c = self.controller
        if c.mode != Mode.STREAMING:
            await c.sync_document()
        await c.measure_context(self.bar.field.text())

    def set_presentation(self, on: bool) -> None:
        """Large type and high contrast for a projector, full screen (`app.qt.presentation`)."""
        self.presentation = on
        self._normal_pane_sizes = apply_presentation(self, on, self._normal_pane_sizes)

    # -- files -------------------------------------------------------------------------------------

    def ask_open(self) -> None:
        self.confirm_discard("opening another file", self._choose_file_to_open)

    def _choose_file_to_open(self) -> None:
        dialog = file_dialog(self, "Open a file")
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
        self.set_mode(Mode.IDLE)
        self.gauges.set_target("–")  # nothing of the previous file carries over
        self.bar.set_context(0, self.controller.context_length, True)
        self._sync_timer_restart()
        ro = " · read-only" if self.editor.isReadOnly() else ""
        self.show_status(f"Opened {self.path} · {self.files.format_label()}{ro}")
        self.controller.spawn(self.controller.open_document())

    def save(self) -> bool:
        if self.path is None:
            self.ask_save_as()
            return False
        return self.save_to(self.path)

    def ask_save_as(self) -> None:
        dialog = file_dialog(self, "Save as", str(Path(self.path).parent) if self.path else "")
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
        dialog = file_dialog(self, "Choose a model folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(self.modelFolderChosen)
        dialog.open()

    # -- run tests (only when asked) ----------------------------------------------------------------

    def ask_run_tests(self) -> None:
        guess = guess_test_file(self.path)
        if guess is not None:
            self.run_tests(str(guess))
            return
        name = Path(self.path).stem if self.path else ""
        self.show_status(f"No test_{name}.py found near {name}.py: choose the test file to run." if name
                         else "Choose the test file to run.")
        dialog = file_dialog(self, "Choose a test file to run", str(Path(self.path).parent) if self.path else "")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter("Python tests (test_*.py *_test.py);;All files (*)")
        dialog.fileSelected.connect(self.run_tests)
        dialog.open()

    def run_tests(self, test_file: str) -> asyncio.Task[Any]:
        self.run_tests_action.setEnabled(False)
        self.show_status(f"Running pytest on {Path(test_file).name}…")
        return self.controller.spawn(self._run_tests(test_file))

    async def _run_tests(self, test_file: str) -> None:
        try:
            result = await run_pytest(test_file)
        finally:
            self.run_tests_action.setEnabled(True)
        self.last_test_result = result
        level = "ok" if result.passed else "error"
        # The tests import the files on disk, as any test runner does; unsaved text is not in them.
        unsaved = " — on the saved file: your unsaved changes are not in it (Ctrl+S, then run again)" \
            if self.editor.document().isModified() else ""
        self.show_status(f"Tests {Path(test_file).name}: {result.summary} ({result.duration_s:.1f} s){unsaved}",
                         "warn" if unsaved and result.passed else level)
        self._show_test_output(result)

    def _show_test_output(self, result: TestRunResult) -> None:
        if self._test_dialog is None:
            self._test_dialog = TestResultsDialog(self)
        self._test_dialog.show_result(result)

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
        self.controller.set_context_length(info.context_length)
        self.controller.describe_model(info.model_name, info.skill_examples)
        what = (f"{info.model_name} was trained for these edits" if info.skills
                else f"{info.model_name} takes any instruction: these are examples")
        self.bar.set_actions(actions_for(info.skills, info.skill_examples), what)

    # -- EditView: what the controller calls ----------------------------------------------------------

    def document_text(self) -> str:
        return self.files.editor_text()

    def selection(self) -> tuple[int, int]:
        cursor = self.editor.textCursor()
        return self.files.from_qt(cursor.selectionStart()), self.files.from_qt(cursor.selectionEnd())

    def language(self) -> str:
        return language_for_path(self.path)

    def document_path(self) -> str | None:
        return self.path

    def show_target(self, start: int, end: int, label: str) -> None:
        start, end = self.files.to_qt(start), self.files.to_qt(end)  # offsets are Python's
        self.editor.show_target(start, end)
        self.gauges.set_target(label)
        self.diff_view.set_first_line(self.editor.document().findBlock(start).blockNumber() + 1)

    def clear_target(self) -> None:
        self.editor.clear_target()

    def preview_target(self, label: str) -> None:
        self.gauges.set_target(f"{label} (on Enter)")

    def diff_begin(self, diff: StreamingDiff) -> None:
        self.diff_view.show_diff(diff)

    def diff_update(self, update: DiffUpdate, text: str) -> None:
        self.diff_view.apply_update(update, fed=bool(text))

    def diff_finished(self, update: DiffUpdate, stopped: bool) -> None:
        self.diff_view.apply_update(update, fed=False)

    def diff_redirect(self, redirect: Redirect) -> None:
        self.diff_view.show_redirect(redirect)

    def set_hunk_state(self, index: int, state: HunkState) -> None:
        # A conflict leaves the hunk undecided in the view: the status line says why.
        shown = state if state in (HunkState.ACCEPTED, HunkState.REJECTED) else None
        self.diff_view.set_hunk_state(index, shown)

    def replace_ranges(self, edits: list[tuple[int, int, str]]) -> int:
        """Apply edits (current-text offsets) as one undo step, back to front so offsets hold;
        returns the undo position after it (the controller keeps hunk states in step with undo)."""
        cursor = QTextCursor(self.editor.document())
        cursor.beginEditBlock()
        try:
            qt = [(self.files.to_qt(s), self.files.to_qt(e), t) for s, e, t in edits]  # before any edit
            for start, end, text in sorted(qt, key=lambda e: e[0], reverse=True):
                cursor.setPosition(start)
                cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                cursor.insertText(text)
        finally:
            cursor.endEditBlock()
        return self.editor.document().availableUndoSteps()

    def set_mode(self, mode: Mode) -> None:
        previous, self._mode = self._mode, mode
        self.bar.set_mode(mode, mode.can_review)
        # Focus follows the work: a finished stream hands the keys to the diff (A / R / J / K, not
        # letters typed into the bar); the last decision hands them back to the editor. After a
        # stop it stays where it is: the user may be typing a redirect.
        if mode == Mode.REVIEWING and previous == Mode.STREAMING:
            self.diff_view.setFocus(Qt.FocusReason.OtherFocusReason)
        elif mode == Mode.IDLE and previous.can_review and self.diff_view.hasFocus():
            self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self.mode_label.setText(MODE_LABELS[mode])

    def show_status(self, text: str, level: str = "info") -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(f"color: {STATUS_COLORS.get(level, STATUS_COLORS['info'])};")
        self.status_label.setToolTip(text)

    def keep_instruction(self, instruction: str) -> None:
        """A refused instruction goes back into the bar to be edited, unless another was typed."""
        if not self.bar.field.text().strip():
            self.bar.field.setText(instruction)
            self.bar.field.selectAll()

    def show_context(self, used_tokens: int, context_length: int, fits: bool, windows: int = 0) -> None:
        self.bar.set_context(used_tokens, context_length, fits, windows)

    def metrics_start(self, t_s: float) -> None:
        self.gauges.request_start(t_s)

    def metrics_tokens(self, count: int, t_s: float, draft: int) -> None:
        self.gauges.tokens(count, t_s, draft)

    def metrics_done(self, stats: DoneStats) -> float | None:
        return self.gauges.done(stats)

    def after_paint(self, callback: Callable[[], None]) -> None:
        """Call back once the diff pane has painted the output fed so far."""
        if not self.diff_view.isVisible():
            callback()  # nothing will paint; the arrival time is the best there is
            return
        self._paint_callbacks.append(callback)

    def _frame_painted(self, _latency_ms: float) -> None:
        callbacks, self._paint_callbacks = self._paint_callbacks, []
        for callback in callbacks:
            callback()

    def metrics_first_paint(self, t_s: float) -> None:
        self.gauges.first_paint(t_s)

    def feed_tiles(self, msg: dict[str, Any]) -> None:
        self.gauges.feed_tiles(msg)

    def show_notice(self, kind: str, text: str, action: str = "") -> None:
        self.diff_view.show_notice(kind, text, action)

    def clear_notice(self) -> None:
        self.diff_view.clear_notice()

    def diff_mark_problem(self, out_line: int) -> None:
        self.diff_view.set_problem_line(out_line)

    def set_selection(self, start: int, end: int) -> None:
        cursor = self.editor.textCursor()
        cursor.setPosition(self.files.to_qt(end))
        cursor.setPosition(self.files.to_qt(start), QTextCursor.MoveMode.KeepAnchor)
        self.editor.setTextCursor(cursor)
        self.editor.centerCursor()

    def confirm(self, question: str, yes: str, then: Callable[[], Any]) -> QMessageBox:
        """Ask, without a nested event loop (the engine's events keep flowing); `then` on `yes`."""
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, question, QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("confirmAccept")
        accept = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # Enter twice never accepts by accident

        def answered(_result: int) -> None:
            if box.clickedButton() is accept:
                then()

        box.finished.connect(answered)
        box.finished.connect(box.deleteLater)
        box.open()
        self.confirm_box = box  # for tests and tools: the question now open
        return box
