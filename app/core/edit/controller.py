"""The one controller between the engine client and the passive views (Mu's logic/view split).

`EditController` decides what an instruction does (a new edit, or a redirect of the running or
stopped one), streams the engine's events into the view, and applies accepted hunks to the
editor through the view. It never touches a widget: everything goes through the `EditView`
protocol (`view.py`), so tests drive it with a fake view and a real engine.

States: idle → streaming → (stopped | reviewing); Enter while streaming or stopped redirects.
Its parts: `engine_session` (the engine's client and the document's session there), `streaming`
(the engine's messages into the edit's streaming diff and the view), `review` (the decisions on
hunks), `ending` (what a finished edit says), `settings` (what `generate` asks).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any, Awaitable

from app.core.diff.stream import StreamingDiff
from app.core.edit import review
from app.core.edit.ending import Model, ending_of
from app.core.edit.engine_session import EngineSession
from app.core.edit.history import InstructionHistory
from app.core.edit.outcome import OUT_OF_SCOPE, overflow_refusal, remote_note, speed_summary
from app.core.edit.settings import RequestSettings
from app.core.edit.states import Mode
from app.core.edit.streaming import EditStream
from app.core.edit.targeting import Target, check_fit, choose_target, output_budget
from app.core.edit.view import EditRun, EditView
from app.core.link.client import ENGINE_LOST, EngineClient, EngineError, RequestStream
from app.core.tasks import TaskSet
from wire import DoneStats


class EditController:
    """Drives an `EditView` from an `EngineClient`; see the module docstring."""

    def __init__(self, view: EditView, client: EngineClient | None = None, profile: str | None = None):
        self.view = view
        self.settings = RequestSettings(profile=profile)  # what each `generate` asks for
        self.engine = EngineSession(lambda: self.view, lambda: self.settings, lambda: self.mode == Mode.STREAMING,
                                    lambda: self._starting, self.stop, client)
        self.history = InstructionHistory()
        self.run: EditRun | None = None
        self.stream = EditStream(lambda: self.view)  # the run's streaming diff, fed by the engine's messages
        self.mode = Mode.IDLE
        self._tasks = TaskSet(self._task_failed)  # what spawn() started and has not ended
        self._starting = False  # a new edit is being set up (sync, measure, send)
        self._cancel_start = False  # Esc came while it was being set up: do not send it
        self.narrower: Target | None = None  # what "narrow to the enclosing function" would target

    @property
    def starting(self) -> bool:
        """A new edit is being set up: Enter was pressed, `generate` has not gone out yet."""
        return self._starting

    @property
    def diff(self) -> StreamingDiff | None:
        """The current edit's streaming diff (the view shows it); None before the first edit."""
        return self.stream.diff

    @property
    def ttft_ms(self) -> list[float]:
        """Enter → first token painted (ms), per request."""
        return self.stream.ttft_ms

    @property
    def redirect_latencies_ms(self) -> list[float]:
        """A redirect's Enter → its first token painted (ms), per redirect."""
        return self.stream.redirect_latencies_ms

    # -- what the window chooses -----------------------------------------------------------------

    def set_view(self, view: EditView) -> None:
        """Drive another view (a study wraps the window in a recording one)."""
        self.view = view

    def configure(self, **changes: Any) -> RequestSettings:
        """Change what the next requests ask for (see `RequestSettings`); returns the new settings.

        E.g. ``configure(profile="h100x8", emulate="llama-3.1-70b")`` from the Hardware box, or
        ``configure(seed=7, temperature=0.0, max_tokens=40)`` for a reproducible edit.
        """
        self.settings = replace(self.settings, **changes)
        return self.settings

    def forget_run(self) -> None:
        """Another document replaced the one the last edit was for: nothing of it carries over."""
        self.run = None
        self.stream.forget()

    # -- the user's actions --------------------------------------------------------------------

    def submit(self, instruction: str) -> bool:
        """Enter in the instruction bar: redirect the current edit, or start a new one."""
        instruction = instruction.strip()
        if not instruction:
            self.view.show_status("Type an instruction first (Ctrl+K).", "warn")
            return False
        if self._starting:
            self.view.show_status("The edit is starting; Enter again once it streams redirects it.", "warn")
            return False
        enter_s = time.perf_counter()  # the user's Enter: what TTFT and redirect latency count from
        self.history.add(instruction)
        run = self.run
        if run is not None and (self.mode == Mode.STREAMING or (
                self.mode == Mode.STOPPED and run.stopped and not self._new_target_selected(run))):
            self.spawn(self._redirect(run, instruction, enter_s))
        else:
            self._starting, self._cancel_start = True, False  # Esc from now on cancels the start
            self.spawn(self._generate(instruction, enter_s))
        return True

    def _new_target_selected(self, run: EditRun) -> bool:
        """After a stop, selecting other code means a new edit rather than a redirect."""
        start, end = self.view.selection()
        return end > start and (start, end) != (run.target.start, run.target.end)

    def stop(self) -> None:
        """Stop button / Esc: the engine computes no further token for this request."""
        if self._starting:  # Esc before the request went out (a large document still syncing)
            self._cancel_start = True
            self.view.show_status("Stopping…")
            return
        run = self.run
        if run is None or self.mode != Mode.STREAMING or self.engine.client is None:
            return
        run.stopped = True
        self.view.show_status("Stopping…")
        self.spawn(self.engine.client.stop(run.request_id))

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro)

    def _task_failed(self, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
        self.view.show_status(f"Something went wrong: {message}", "error")
        self._set_mode(Mode.REVIEWING if self.run is not None else Mode.IDLE)

    async def wait_idle(self) -> None:
        """Wait for every task this controller started (tests, shutdown)."""
        await self._tasks.wait_idle()

    def cancel_tasks(self) -> list[asyncio.Task[Any]]:
        return self._tasks.cancel_all()

    def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        self.view.set_mode(mode)

    async def _generate(self, instruction: str, started_s: float) -> None:
        self._starting = True  # (submit set it already, with _cancel_start cleared)
        try:
            stream = await self._start_generate(instruction, started_s)
        finally:
            self._starting = False
        if self._cancel_start and stream is not None and self.run is not None:
            self.stop()  # Esc landed while `generate` was on its way: stop it at once
        if stream is not None and self.run is not None:
            await self._consume(self.run, stream)

    async def _start_generate(self, instruction: str, started_s: float) -> RequestStream | None:
        """Send the editor's text if the engine has not seen it, then `generate`; the stream, or None.

        No round trip before `generate` unless the engine holds no document at all: it applies an
        `update` before the `generate` that follows on the connection, and checks the context itself
        (a prompt that cannot fit ends as its `done` with the figures).
        """
        client = await self.engine.client_for_edit()
        if client is None:
            return None  # the status line says why
        text = self.view.document_text()
        if self.engine.changed_since_sync(text) and not await self.engine.send_text(client, text):
            self.view.keep_instruction(instruction)
            return None
        if self._cancel_start:
            self.view.show_status("Stopped before the edit started; the instruction is back in the bar.", "warn")
            self.view.keep_instruction(instruction)
            return None
        target = choose_target(text, *self.view.selection(), self.view.language())
        target_text = text[target.start:target.end]
        fit = check_fit(self.engine.prompt_tokens, target_text, instruction, self.engine.context_length)
        if fit.fits:  # an estimate: beyond the context, the engine edits in windows or refuses (its done says)
            self.view.show_context(fit.used_tokens, fit.context_length, fit.fits)
        settings = self.settings
        stream = await client.generate(
            self.engine.session, instruction, (target.start, target.end),
            max_tokens=settings.max_tokens or output_budget(target_text), profile=settings.profile,
            emulate=settings.paced_model, seed=settings.seed, temperature=settings.temperature,
            speculate=settings.speculate, whole=settings.whole,
        )
        self.begin_run(EditRun(stream.request_id, instruction, target, text, started_s, stream.sent_at_s))
        return stream

    def begin_run(self, run: EditRun) -> None:
        """`run`'s request went out: it is the current edit, its diff starts empty, tokens follow."""
        self.run = run
        self.stream.begin(run)
        self.view.clear_notice()
        self.view.show_target(run.target.start, run.target.end, run.target.label)
        self.view.metrics_start(run.started_s)
        self._set_mode(Mode.STREAMING)
        self.view.show_status(f"Editing {run.target.label}: {run.instruction}")

    async def _redirect(self, run: EditRun, instruction: str, enter_s: float) -> None:
        client = self.engine.client
        if not self.engine.connected:
            # The engine died after the stop: this Enter restarts it and starts the edit afresh.
            self.run = None
            self._cancel_start = False
            await self._generate(instruction, enter_s)
            return
        run.redirect_enter_s = enter_s
        run.instruction = instruction
        was_running = self.mode == Mode.STREAMING
        # Mid-stream, tokens of the old instruction may still be in flight until `redirected`.
        run.redirect_armed = not was_running
        stream = await client.redirect(run.request_id, instruction)
        if not was_running:
            self.stream.resume(run)  # the stopped diff was settled for review: stream on into it
            run.stopped = run.finished = False
            self.view.metrics_start(enter_s)  # the gauges measure the continued stream afresh
            self._set_mode(Mode.STREAMING)
            self.view.show_status(f"Redirected: {instruction}")
            await self._consume(run, stream)
        else:
            self.view.show_status(f"Redirecting: {instruction}")

    async def _consume(self, run: EditRun, stream: RequestStream) -> None:
        async for msg in stream:
            if run is not self.run:
                return  # a newer edit replaced this one
            self.handle(run, msg)

    def handle(self, run: EditRun, msg: dict[str, Any]) -> None:
        """One engine message of `run`'s request: its end here, the rest into the stream."""
        kind = msg.get("type")
        if kind == "done":
            self._on_done(run, msg)
        elif kind == "error":
            self._on_error(run, msg)
        else:  # token, redirected, tiles, notice
            self.stream.handle(run, msg)

    def _on_done(self, run: EditRun, msg: dict[str, Any]) -> None:
        reason = str(msg.get("reason", "eos"))
        if reason == "redirect":
            return  # the continuation follows on the same request
        stats = DoneStats.from_message(msg.get("stats"))
        run.stats = stats
        run.finished = True
        run.stopped = run.stopped or reason == "stop"
        shown = self.view.metrics_done(stats)
        self.stream.finish(run, run.stopped)
        self.engine.counted_prompt(stats.prompt_tokens)
        error = stats.error if reason == "error" else None
        refused = error is not None and error.code == "context_overflow" and not run.output
        if stats.windows or refused:  # the engine's verdict on the length: in windows, or too long
            text = run.snapshot[run.target.start:run.target.end]
            fit = check_fit(self.engine.prompt_tokens, text, run.instruction, self.engine.context_length)
            self.view.show_context(fit.used_tokens, fit.context_length, not refused, stats.windows or 0)
        summary = speed_summary(run.tokens, stats, shown)
        summary += remote_note(stats)
        if refused:
            self._set_mode(Mode.IDLE)
            self._refuse_overflow(run.instruction, error.message or "too long", run.target)
        else:
            out_of_scope = stats.out_of_scope or OUT_OF_SCOPE in run.notices
            problem = self.stream.check_parses(run, reason) if error is None and not out_of_scope else None
            ending = ending_of(run, reason, summary, error, out_of_scope, len(self.unresolved_final()),
                               len(self.diff.final_hunks) if self.diff else 0, problem,
                               Model(self.engine.model_name, self.engine.skill_examples))
            self._set_mode(ending.mode)
            if ending.notice is not None:
                self.view.show_notice(*ending.notice.parts())
            self.view.show_status(ending.status, ending.level)
            if ending.keep_instruction:
                self.view.keep_instruction(run.instruction)
        self.view.clear_target()

    def _refuse_overflow(self, instruction: str, message: str, target: Target) -> None:
        """Too long for the model: say so with the limit, keep the instruction, offer to narrow."""
        self.narrower, notice = overflow_refusal(self.view.document_text(), *self.view.selection(), target, message)
        self.view.show_status(message, "error")
        self.view.show_notice(*notice.parts())
        self.view.keep_instruction(instruction)

    def narrow_target(self) -> bool:
        """Select the enclosing function offered after a refusal; the instruction waits in the bar."""
        target, self.narrower = self.narrower, None
        if target is None or self.mode == Mode.STREAMING:
            return False
        if self.view.document_text()[target.start:target.end] == "":
            return False
        self.view.set_selection(target.start, target.end)
        self.view.clear_notice()
        self.view.show_status(f"Target: {target.label}. Press Enter to send the instruction.", "info")
        return True

    def _on_error(self, run: EditRun, msg: dict[str, Any]) -> None:
        run.finished = True
        code = str(msg.get("code", "error"))
        self.stream.finish(run, True)
        self._set_mode(Mode.STOPPED if run.output else Mode.IDLE)
        self.view.clear_target()
        if code == ENGINE_LOST:
            self.view.show_status(
                "The engine stopped unexpectedly. Your text is untouched; the partial edit stays "
                "reviewable, and the next instruction restarts the engine.", "error")
        else:
            self.view.show_status(f"The engine refused the edit: {msg.get('message', code)}", "error")
            self.view.keep_instruction(run.instruction)

    # -- review: the controller decides, the view shows (app.core.edit.review) --------------------

    def accept_hunks(self, indices: list[int]) -> int:
        """Apply these final hunks to the editor as one undo step; returns how many applied."""
        if self.run is None or self.diff is None:
            return 0
        applied = review.accept(self.view, self.run, self.diff, indices)
        self._check_all_resolved()
        return applied

    def reject_hunks(self, indices: list[int]) -> None:
        if self.run is None:
            return
        review.reject(self.view, self.run, self.diff, indices)
        self._check_all_resolved()

    def unresolved_final(self) -> list[int]:
        return review.undecided(self.run, self.diff)

    def accept_all(self) -> int:
        """Accept every undecided change; an edit that does not parse asks first (0: not yet)."""
        run, left = self.run, self.unresolved_final()
        if run is not None and run.unparsable and left:
            self.view.confirm(
                f"The edited code does not parse. Accept all {len(left)} change(s) anyway? The file "
                "would not run until it is fixed (Ctrl+Z undoes the accept).", "Accept anyway",
                lambda: self.accept_hunks(left))
            return 0
        if run is not None and run.not_the_edit and left:
            self.view.confirm(
                f"The engine found {run.not_the_edit.split(': review')[0]}. Accept all {len(left)} change(s) "
                "anyway? (Ctrl+Z undoes the accept.)", "Accept anyway", lambda: self.accept_hunks(left))
            return 0
        return self.accept_hunks(left)

    def reject_all(self) -> None:
        self.reject_hunks(self.unresolved_final())

    def undo_moved(self, position: int, forget_after: bool = False) -> None:
        """The editor's undo stack now stands at `position`: accepts past it are undecided again
        (`review.follow_undo`); `forget_after`: a new edit cleared the redo stack."""
        run = self.run
        if run is None or self.diff is None or not run.accept_steps:
            return
        if not review.follow_undo(self.view, run, self.diff, position, forget_after):
            return
        if self.unresolved_final() and self.mode == Mode.IDLE and self.diff.done:
            self._set_mode(Mode.REVIEWING)
            self.view.show_status("Undone: that change is back to review (Ctrl+Shift+Z redoes it).", "info")
        else:
            self._check_all_resolved()

    def _check_all_resolved(self) -> None:
        if self.mode.can_review and self.diff is not None and self.diff.done \
                and not self.unresolved_final():
            self._set_mode(Mode.IDLE)
            self.view.show_status("All changes reviewed.", "ok")
