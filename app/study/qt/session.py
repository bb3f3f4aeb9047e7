"""One participant's session: id, consent, each task in the real editor, questionnaires, the end.

`StudySession` is the study window. It embeds the app's `MainWindow` (toolbar hidden: the
condition, not the participant, chooses the hardware) and stands a `RecordingView` between its
controller and the window, so every request, token batch, hunk decision and edit reaches the log.
The researcher's controls (pause, skip task, abort) open with Ctrl+Alt+Shift+R.

Signals: `ended(str)` with the outcome: completed / declined / aborted / closed.
"""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMenu, QStackedWidget, QVBoxLayout, QWidget

from app.core.edit.states import Mode
from app.qt.assembly import assemble
from ..checks import run_check
from ..eventlog import EventLog
from ..questions import raw_tlx
from ..recorder import RecordingView, StudyRecorder
from ..schedule import participant_number, plan_for
from ..workspace import line_selection, prepare_workspace
from .pages import STYLE, ConsentPage, MessagePage, ParticipantPage, TaskFrame, TaskIntroPage
from .questionnaire import QuestionnairePage

RESEARCHER_KEYS = "Ctrl+Alt+Shift+R"


class StudySession(QWidget):
    """See the module docstring."""

    ended = Signal(str)

    def __init__(self, study, log_dir: str | Path | None = None, participant: str | None = None,
                 model_dir: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study = study
        self.log_dir = Path(log_dir) if log_dir else study.path.parent / "logs"
        self.setObjectName("studyShell")
        self.setStyleSheet(STYLE)
        self.setWindowTitle(f"Study {study.id} — Tessera")
        self.log: EventLog | None = None
        self.recorder: StudyRecorder | None = None
        self.participant: str | None = None
        self.plan = None
        self.position = 0  # 1-based slot being worked on; 0 before the first
        self.outcome: str | None = None
        self.paused_from: QWidget | None = None
        self.work_path: Path | None = None
        self._task_started = 0.0
        self._undo_steps = 0
        self._frame_was_visible = False  # the task band's visibility before a pause

        self.frame = TaskFrame(self)
        self.frame.hide()
        self.stack = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.frame)
        layout.addWidget(self.stack, 1)
        self.participant_page = ParticipantPage(study.id, self)
        self.consent_page = ConsentPage(study.consent, self)
        self.intro_page = TaskIntroPage(self)
        self.message_page = MessagePage(self)
        responses = study.responses if study.responses and study.responses.exists() else None
        args = ("--responses", str(responses), "--responses-mode", "replay") if responses else ()
        self.parts = assemble(self, model_dir=model_dir, engine_args=args)
        self.window, self.link = self.parts.window, self.parts.link
        self.window.setWindowFlags(Qt.WindowType.Widget)
        self.window.toolbar.hide()
        self.window.toolbar.profileChanged.disconnect()  # the condition chooses the hardware, not the toolbar
        self.paused_page = QLabel("Paused by the researcher.\nPlease wait.", self)
        self.paused_page.setObjectName("pausedText")
        self.paused_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.questionnaire: QuestionnairePage | None = None
        for page in (self.participant_page, self.consent_page, self.intro_page, self.window, self.message_page,
                     self.paused_page):
            self.stack.addWidget(page)

        self.engine_task: asyncio.Task | None = None

        self.participant_page.chosen.connect(self.begin)
        self.consent_page.answered.connect(self.consent)
        self.intro_page.started.connect(self.start_task)
        self.frame.finishRequested.connect(self.finish_task)
        self.message_page.button.clicked.connect(self.close)
        shortcut = QShortcut(QKeySequence(RESEARCHER_KEYS), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(self.researcher_menu)
        self.survival_timer = QTimer(self)
        self.survival_timer.setInterval(1000)
        self.survival_timer.timeout.connect(self._poll_survival)
        self.window.editor.document().contentsChange.connect(self._contents_change)
        if participant:
            self.participant_page.field.setText(participant)

    # -- the flow --------------------------------------------------------------------------------
    def begin(self, participant: str) -> None:
        """The researcher entered the participant id: open the log, show consent, start the engine."""
        study = self.study
        self.participant = participant
        number = participant_number(participant)
        self.plan = plan_for(number, [c.id for c in study.conditions], [t.id for t in study.tasks])
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.log = EventLog(self.log_dir / f"{study.id}-{participant}-{stamp}.jsonl")
        self.recorder = StudyRecorder(self.log, self.window.controller, study.log_file_contents)
        self.window.controller.set_view(RecordingView(self.window.edit_view, self.recorder))
        self.log.write("log_start", study=study.id, study_file=str(study.path), participant=participant,
                       participant_number=number, wall_time=datetime.datetime.now().astimezone().isoformat(),
                       clock="time.perf_counter, s since log_start", log_file_contents=study.log_file_contents,
                       responses=str(study.responses) if self.link.engine_args else None,
                       conditions=[c.describe() for c in study.conditions], schedule=self.plan.to_json())
        self.stack.setCurrentWidget(self.consent_page)
        self.engine_task = asyncio.ensure_future(self._start_engine())

    async def close_engine(self) -> None:
        """Stop the engine (also one still starting) and the controller's tasks."""
        if self.engine_task is not None and not self.engine_task.done():
            self.engine_task.cancel()
            await asyncio.gather(self.engine_task, return_exceptions=True)
        self.window.stop_timers()
        await self.parts.shutdown()

    async def _start_engine(self) -> None:
        try:
            await self.link.start()
        except Exception as exc:  # noqa: BLE001 (reported in the log; the next request retries)
            if self.log is not None:
                self.log.write("engine_error", message=str(exc))

    def consent(self, agreed: bool) -> None:
        self.log.write("consent", agreed=agreed)
        if not agreed:
            self._end("declined", "Thank you", "You chose not to take part. Nothing further is recorded.")
            return
        self.next_task()

    def next_task(self) -> None:
        self.position += 1
        if self.position > len(self.plan.slots):
            self._ask_end_questions()
            return
        slot = self.plan.slots[self.position - 1]
        self.frame.hide()
        self.intro_page.show_task(self.position, len(self.plan.slots), self.study.task(slot.task))
        self.stack.setCurrentWidget(self.intro_page)
        self.intro_page.start.setFocus()

    def current(self):
        slot = self.plan.slots[self.position - 1]
        return slot, self.study.task(slot.task), self.study.condition(slot.condition)

    def start_task(self) -> None:
        slot, task, condition = self.current()
        self.intro_page.start.setEnabled(False)
        self.work_path = prepare_workspace(task, self.log_dir / f"{self.study.id}-{self.participant}-work")
        win, controller = self.window, self.window.controller
        win.open_path(str(self.work_path))
        text = win.editor.toPlainText()
        start, end = line_selection(text, task.selection)
        cursor = win.editor.textCursor()
        cursor.setPosition(start)
        cursor.setPosition(end, cursor.MoveMode.KeepAnchor)
        win.editor.setTextCursor(cursor)
        controller.configure(profile=condition.engine_profile(), emulate=condition.model,
                             speculate=condition.speculation)
        # Blind by default: neither the caption nor the hardware view names the condition.
        named = self.study.show_condition
        win.gauges.set_profile(condition.label if named else "not shown in this study",
                               condition.profile if named and not condition.explicit else "local")
        win.bar.field.setText(task.instruction or "")
        self._undo_steps = win.editor.document().availableUndoSteps()
        self.recorder.begin_task(task.id)
        fields = {"position": self.position, "of": len(self.plan.slots), "condition": condition.id,
                  "condition_label": condition.label, "condition_detail": condition.describe(),
                  "free": task.free, "instruction": task.instruction, "file": task.file.name}
        if self.study.log_file_contents:
            fields["text"] = text
        self._task_started = self.log.now()
        self.recorder.write("task_start", **fields)
        self.frame.show_task(self.position, len(self.plan.slots), task)
        self.frame.show()
        self.stack.setCurrentWidget(win)
        win.focus_instruction()
        win.bar.field.end(False)
        self.survival_timer.start()

    def finish_task(self, outcome: str = "finished") -> None:
        if self.recorder is None or self.recorder.task is None:
            return
        self.frame.finish.setEnabled(False)
        if self.window.controller.mode == Mode.STREAMING:
            self.window.controller.stop()
        slot, task, condition = self.current()
        text = self.window.editor.toPlainText()
        self.survival_timer.stop()
        self.window.save_to(str(self.work_path))
        self.recorder.end_task(text)
        fields = {"outcome": outcome, "duration_s": round(self.log.now() - self._task_started, 3)}
        if self.study.log_file_contents:
            fields["text"] = text
        self.log.write("task_end", task=task.id, **fields)
        self.frame.hide()
        if outcome == "finished":
            asyncio.ensure_future(self._check_then_ask(task))
        else:
            self.next_task()

    async def _check_then_ask(self, task) -> None:
        if task.check:
            self.message_page.show_message("Checking your result…", "One moment.", None)
            self.stack.setCurrentWidget(self.message_page)
            result = await run_check(task.check, self.work_path.parent)
            self.log.write("success", task=task.id, **result)
        self._ask_task_questions(task)

    def _ask_task_questions(self, task) -> None:
        questions = self.study.questionnaire(self.study.after_task)
        if not questions:
            self.next_task()
            return
        heading = f"About task {self.position} of {len(self.plan.slots)}: {task.title}"
        self._show_questionnaire(questions, heading, lambda a: self._answered("task", task.id, a))

    def _ask_end_questions(self) -> None:
        questions = self.study.questionnaire(self.study.end)
        if not questions:
            self._complete()
            return
        self._show_questionnaire(questions, "A few last questions about the whole session",
                                 lambda a: self._answered("end", None, a))

    def _show_questionnaire(self, questions, heading: str, then) -> None:
        if self.questionnaire is not None:
            self.stack.removeWidget(self.questionnaire)
            self.questionnaire.deleteLater()
        self.questionnaire = QuestionnairePage(questions, heading, self)
        self.questionnaire.submitted.connect(then)
        self.stack.addWidget(self.questionnaire)
        self.stack.setCurrentWidget(self.questionnaire)

    def _answered(self, scope: str, task: str | None, answers: dict) -> None:
        fields = {"scope": scope, "answers": answers, "tlx_raw": raw_tlx(answers)}
        if task is not None:
            fields["task"] = task
        self.log.write("questionnaire", **fields)
        if scope == "task":
            self.next_task()
        else:
            self._complete()

    def _complete(self) -> None:
        self._end("completed", "Thank you!", "The session is complete. Please let the researcher know.\n\n"
                  f"(Researcher: the log is {self.log.path})")

    def _end(self, outcome: str, heading: str, text: str) -> None:
        self.outcome = outcome
        self.frame.hide()
        self.survival_timer.stop()
        if self.log is not None:
            self.log.write("session_end", outcome=outcome)
            self.log.close()
            self.log = None
        self.message_page.show_message(heading, text)
        self.stack.setCurrentWidget(self.message_page)
        self.ended.emit(outcome)

    # -- the researcher ------------------------------------------------------------------------
    def researcher_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setObjectName("researcherMenu")
        menu.addAction("Researcher controls").setEnabled(False)
        menu.addSeparator()
        paused = self.paused_from is not None
        menu.addAction("Resume" if paused else "Pause", self.resume if paused else self.pause)
        skip = menu.addAction("Skip this task", lambda: self.skip())
        skip.setEnabled(self.recorder is not None and self.recorder.task is not None and not paused)
        abort = menu.addAction("Abort the session", self.abort)
        abort.setEnabled(self.log is not None)
        menu.popup(self.mapToGlobal(QPoint(self.width() // 2 - 80, self.height() // 3)))
        return menu

    def pause(self) -> None:
        if self.paused_from is not None or self.log is None:
            return
        self.paused_from = self.stack.currentWidget()
        self._frame_was_visible = self.frame.isVisible()
        self.frame.hide()  # no Finish while paused
        self.log.write("pause", task=self.recorder.task if self.recorder else None)
        self.stack.setCurrentWidget(self.paused_page)

    def resume(self) -> None:
        if self.paused_from is None:
            return
        self.log.write("resume", task=self.recorder.task if self.recorder else None)
        self.stack.setCurrentWidget(self.paused_from)
        self.frame.setVisible(self._frame_was_visible)
        self.paused_from = None

    def skip(self) -> None:
        if self.recorder is not None and self.recorder.task is not None:
            self.log.write("skip", task=self.recorder.task)
            self.finish_task("skipped")

    def abort(self) -> None:
        if self.log is None:
            return
        self.paused_from = None
        if self.recorder is not None and self.recorder.task is not None:
            self.log.write("abort", task=self.recorder.task)
            self.finish_task("aborted")
        self._end("aborted", "Session ended", "The researcher ended this session. Thank you for your time.")

    # -- edits, undo, survival ------------------------------------------------------------------
    def _contents_change(self, position: int, removed: int, added: int) -> None:
        rec = self.recorder
        if rec is None or rec.task is None or rec.in_replace:
            return
        steps = self.window.editor.document().availableUndoSteps()
        if steps < self._undo_steps:
            rec.undo()
        else:
            text = self.window.editor.toPlainText()[position:position + added] if rec.log_contents else None
            rec.manual_edit(position, removed, added, text)
        self._undo_steps = steps

    def _poll_survival(self) -> None:
        if self.recorder is not None and self.recorder.task is not None:
            self.recorder.poll(self.window.editor.toPlainText())

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if self.log is not None:
            if self.recorder is not None and self.recorder.task is not None:
                self.recorder.end_task(self.window.editor.toPlainText())
                self.log.write("task_end", task=self.current()[1].id, outcome="closed",
                               duration_s=round(self.log.now() - self._task_started, 3))
            self.log.write("session_end", outcome="closed")
            self.log.close()
            self.log = None
            self.outcome = self.outcome or "closed"
            self.ended.emit("closed")
        self.window.stop_timers()
        event.accept()
