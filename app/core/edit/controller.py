"""The one controller between the engine client and the passive views (Mu's logic/view split).

`EditController` decides what an instruction does (a new edit, or a redirect of the running or
stopped one), streams the engine's events into the view, and applies accepted hunks to the
editor through the view. It never touches a widget: everything goes through the `EditView`
protocol below, so tests drive it with a fake view and a real engine.

States: idle → streaming → (stopped | reviewing); Enter while streaming or stopped redirects.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import replace
from typing import Any, Awaitable, Callable

from app.core.diff.stream import Hunk, StreamingDiff
from app.core.edit.history import InstructionHistory
from app.core.edit.outcome import (OUT_OF_SCOPE, OVERFLOW, UNPARSABLE, apply_hunks, out_of_scope_notice,
                                   overflow_notice, syntax_problem, unparsable_notice)
from app.core.edit.review import conflict_message, hunk_key, plan_accept
from app.core.edit.settings import RequestSettings
from app.core.edit.states import HunkState, Mode
from app.core.edit.targeting import (ContextFit, Target, check_fit, choose_target, fit_from_measure,
                                     narrower_function, output_budget)
from app.core.edit.view import EditRun, EditView
from app.core.link.client import ENGINE_LOST, EngineClient, EngineError, RequestStream
from wire import MAX_DOCUMENT_BYTES, DoneStats, utf8_size


class EditController:
    """Drives an `EditView` from an `EngineClient`; see the module docstring."""

    def __init__(self, view: EditView, client: EngineClient | None = None, profile: str | None = None):
        self.view = view
        self.client = client
        self.settings = RequestSettings(profile=profile)  # what each `generate` asks for
        self._id_prefix = secrets.token_hex(4)  # windows sharing one engine never share an id
        self.session = f"{self._id_prefix}-doc1"  # engine session of the current document
        self.history = InstructionHistory()
        self.run: EditRun | None = None
        self.diff: StreamingDiff | None = None
        self.mode = Mode.IDLE
        self.context_length = 0  # the model's context window in tokens, 0 until known
        self.prompt_tokens = 0  # the engine's latest count for this document's prompt
        self.redirect_latencies_ms: list[float] = []  # Enter → first redirected token painted
        self.ttft_ms: list[float] = []  # Enter → first token painted, per request
        self.ensure_engine: Callable[[], Awaitable[EngineClient]] | None = None  # restarts a lost engine
        self._tasks: set[asyncio.Task[Any]] = set()
        self._starting = False  # a new edit is being set up (sync, measure, send)
        self._cancel_start = False  # Esc came while it was being set up: do not send it
        self._session_opened = False
        self._document_dirty = False  # the editor changed since the engine last saw the text
        self._updates_pending = 0  # updates sent whose `ready` (or error) has not come yet
        self._synced_text: str | None = None  # the text the engine last saw (highlighting also signals
        # a change; the text itself says whether there was one)
        self._sessions = 0  # sessions opened so far (ids <prefix>-doc1, -doc2, ...)
        self.refused_chars = 0  # size of a document the engine refused as too large (0: none)
        self.model_name = ""  # the engine's model, for messages
        self.skill_examples: tuple[str, ...] = ()  # one example per skill of the model (() = free-form)
        self.narrower: Target | None = None  # what "narrow to the enclosing function" would target

    # -- what the window chooses -----------------------------------------------------------------

    def set_engine_starter(self, ensure_engine: Callable[[], Awaitable[EngineClient]] | None) -> None:
        """How a lost (or never started) engine is started again on the next instruction."""
        self.ensure_engine = ensure_engine

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

    def describe_model(self, model_name: str, skill_examples: tuple[str, ...]) -> None:
        """The engine's model, named in messages, and one example per skill (() = free-form)."""
        self.model_name, self.skill_examples = model_name, skill_examples

    def set_context_length(self, context_length: int) -> None:
        """The model's context window (tokens), from the engine's welcome."""
        self.context_length = context_length

    def forget_run(self) -> None:
        """Another document replaced the one the last edit was for: nothing of it carries over."""
        self.run = None
        self.diff = None

    # -- engine attach -------------------------------------------------------------------------

    def attach(self, client: EngineClient) -> None:
        self.client = client
        self._session_opened = False
        if client.info is not None:
            self.context_length = client.info.context_length
            self.model_name = client.info.model_name
            self.skill_examples = client.info.skill_examples

    async def open_document(self) -> None:
        """Tell the engine about the current document (prewarms its prefix)."""
        if self.client is None or not self.client.connected:
            return
        await self.close_document()
        self._sessions += 1
        self.session = f"{self._id_prefix}-doc{self._sessions}"
        self._document_dirty = False
        text = self.view.document_text()
        self._synced_text = text
        try:
            ready = await self.client.open_document(
                self.session, text, self.view.language(), self.view.document_path(),
                self.settings.profile)
        except EngineError as exc:
            if exc.code == "document_too_large":
                self.refused_chars = len(text)
                self.view.show_status(
                    f"This document ({len(text.encode('utf-8')) / 2**20:.1f} MiB) is too large for the "
                    f"engine: editing and saving work, AI edits need a smaller file. ({exc.message})", "warn")
            else:
                self.view.show_status(f"The engine could not open the document: {exc.message}", "error")
            return
        self.refused_chars = 0
        self._session_opened = True
        self.on_ready(ready)
        if self.mode != Mode.STREAMING:
            await self.measure_context("")  # the meter from the engine's count, not the estimate

    async def close_document(self) -> None:
        """Close the current session in the engine (its document and cache are freed there)."""
        if not self._session_opened:
            return
        self._session_opened = False
        if self.client is not None and self.client.connected:
            try:
                await self.client.close_session(self.session)
            except EngineError:
                pass  # the connection is gone, and the engine closes its sessions with it

    async def sync_document(self) -> None:
        """Send the editor's text (after edits); the engine re-prefills what changed."""
        if self.client is None or not self.client.connected or self.mode == Mode.STREAMING:
            return
        if not self._session_opened:
            if self.refused_chars and len(self.view.document_text()) >= self.refused_chars:
                return  # still too large: said once, not on every keystroke
            await self.open_document()
            return
        self._document_dirty = False
        since, self._synced_text = self._held_text(), self.view.document_text()
        self._updates_pending += 1
        try:
            ready = await self.client.update_document(self.session, self._synced_text, since=since)
        except EngineError as exc:
            self._update_failed()
            self.view.show_status(f"The engine could not update the document: {exc.message}", "warn")
            return
        finally:
            self._updates_pending -= 1
        self.on_ready(ready)

    def _held_text(self) -> str | None:
        """The text the engine holds, where it is sure (no `update` still unanswered): an update
        then carries only the characters that changed since."""
        return self._synced_text if self._updates_pending == 0 and self._session_opened else None

    def _update_failed(self) -> None:
        self._document_dirty = True  # the engine may hold the text before this change, or none:
        self._synced_text = None  # the next update sends the whole text

    def _changed_since_sync(self, text: str) -> bool:
        if self._document_dirty and text == self._synced_text:
            self._document_dirty = False  # a change of colours, not of text
        return self._document_dirty

    def on_ready(self, msg: dict[str, Any]) -> None:
        """The engine's `ready` for a document this controller sent: its prompt size.

        While an edit starts or streams, the meter keeps showing that edit's figures: the text is
        not read nor the target sought again on the window's thread while the first token is due."""
        self.prompt_tokens = int(msg.get("prompt_tokens") or 0)
        self.context_length = int(msg.get("context_length") or self.context_length)
        if self.mode != Mode.STREAMING and not self._starting:
            self.refresh_context("")

    def document_changed(self) -> None:
        """The editor's text changed (the window debounces and then calls `sync_document`)."""
        self._document_dirty = True

    def refresh_context(self, instruction: str) -> bool:
        """Update the context meter from an estimate; False if the prompt cannot fit."""
        text = self.view.document_text()
        target = choose_target(text, *self.view.selection(), self.view.language())
        fit = check_fit(self.prompt_tokens, text[target.start:target.end], instruction, self.context_length)
        self.view.show_context(fit.used_tokens, fit.context_length, fit.fits)
        return fit.fits

    async def measure_context(self, instruction: str) -> ContextFit:
        """The context meter from the engine's exact count (an estimate without an engine)."""
        text = self.view.document_text()
        target = choose_target(text, *self.view.selection(), self.view.language())
        if self.mode != Mode.STREAMING:
            self.view.preview_target(target.label)  # what Enter would edit, before it is pressed
        fit = check_fit(self.prompt_tokens, text[target.start:target.end], instruction, self.context_length)
        client = self.client
        if client is not None and client.connected and self._session_opened and not self._changed_since_sync(text):
            try:
                measured = await client.measure(self.session, instruction or "edit", (target.start, target.end))
                fit = fit_from_measure(int(measured.get("prompt_tokens") or 0),
                                       int(measured.get("source_tokens") or 0),
                                       int(measured.get("context_length") or self.context_length),
                                       int(measured.get("windows") or 0), str(measured.get("refusal") or ""))
            except EngineError:
                pass  # the estimate stands; the engine's refusal, if any, comes with the edit
        self.view.show_context(fit.used_tokens, fit.context_length, fit.fits, fit.windows)
        return fit

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
        if run is None or self.mode != Mode.STREAMING or self.client is None:
            return
        run.stopped = True
        self.view.show_status("Stopping…")
        self.spawn(self.client.stop(run.request_id))

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            message = exc.message if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
            self.view.show_status(f"Something went wrong: {message}", "error")
            self._set_mode(Mode.REVIEWING if self.run is not None else Mode.IDLE)

    async def wait_idle(self) -> None:
        """Wait for every task this controller started (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel_tasks(self) -> list[asyncio.Task[Any]]:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return tasks

    def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        self.view.set_mode(mode)

    async def _client_ready(self) -> EngineClient | None:
        if self.client is not None and self.client.connected:
            return self.client
        if self.ensure_engine is None:
            self.view.show_status("No engine is connected.", "error")
            return None
        self.view.show_status("Starting the engine…")
        try:
            self.attach(await self.ensure_engine())
        except EngineError as exc:
            self.view.show_status(f"The engine could not start: {exc.message}", "error")
            return None
        await self.open_document()
        return self.client

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
        client = await self._client_ready()
        if client is None:
            return None
        if not self._session_opened:
            self.refused_chars = 0  # Enter asks again, whatever the size
            await self.open_document()  # the engine must edit the text the user sees now
            if not self._session_opened:
                return None  # the status line says why the engine did not take the document
        text = self.view.document_text()
        if self._changed_since_sync(text) and not await self._send_text(client, text):
            self.view.keep_instruction(instruction)
            return None
        if self._cancel_start:
            self.view.show_status("Stopped before the edit started; the instruction is back in the bar.", "warn")
            self.view.keep_instruction(instruction)
            return None
        target = choose_target(text, *self.view.selection(), self.view.language())
        target_text = text[target.start:target.end]
        fit = check_fit(self.prompt_tokens, target_text, instruction, self.context_length)
        self.view.show_context(fit.used_tokens, fit.context_length, fit.fits)  # an estimate; the engine decides
        settings = self.settings
        stream = await client.generate(
            self.session, instruction, (target.start, target.end),
            max_tokens=settings.max_tokens or output_budget(target_text), profile=settings.profile,
            emulate=settings.paced_model, seed=settings.seed, temperature=settings.temperature,
            speculate=settings.speculate,
        )
        self.begin_run(EditRun(stream.request_id, instruction, target, text, started_s))
        return stream

    def begin_run(self, run: EditRun) -> None:
        """`run`'s request went out: it is the current edit, its diff starts empty, tokens follow."""
        self.run = run
        self._begin_diff(run.snapshot[run.target.start:run.target.end])
        self.view.clear_notice()
        self.view.show_target(run.target.start, run.target.end, run.target.label)
        self.view.metrics_start(run.started_s)
        self._set_mode(Mode.STREAMING)
        self.view.show_status(f"Editing {run.target.label}: {run.instruction}")

    async def _send_text(self, client: EngineClient, text: str) -> bool:
        """Send the editor's text as an `update` without waiting for its `ready`; False if too large."""
        size = utf8_size(text)
        if size > MAX_DOCUMENT_BYTES:
            self.view.show_status(
                f"This document ({size / 2**20:.1f} MiB) is too large for the engine (at most "
                f"{MAX_DOCUMENT_BYTES // 2**20} MiB): editing and saving work, AI edits need a smaller file.", "warn")
            return False
        self._document_dirty = False
        since, self._synced_text = self._held_text(), text
        self._updates_pending += 1
        try:
            _update, ready = await client.send_update(self.session, text, since=since)
        except BaseException:
            self._updates_pending -= 1
            self._update_failed()
            raise
        ready.add_done_callback(self._update_answered)
        return True

    def _update_answered(self, ready: asyncio.Future[dict[str, Any]]) -> None:
        self._updates_pending -= 1
        if ready.cancelled():
            self._update_failed()
            return
        exc = ready.exception()
        if exc is None:
            self.on_ready(ready.result())
            return
        self._update_failed()
        if isinstance(exc, EngineError) and exc.code == ENGINE_LOST:
            return  # the streams say so themselves
        if self.mode == Mode.STREAMING:
            self.stop()  # the edit would be of text the engine does not hold
        message = exc.message if isinstance(exc, EngineError) else str(exc)
        self.view.show_status(f"The engine could not take the edited text: {message}", "error")

    async def _redirect(self, run: EditRun, instruction: str, enter_s: float) -> None:
        client = self.client
        if client is None or not client.connected:
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
            # The stopped diff was settled for review; rebuild it to keep streaming into it.
            self._begin_diff(run.snapshot[run.target.start:run.target.end])
            if run.output:
                self._feed_diff(run.output, 0)
            self._mark_redirect(instruction)
            self._restore_resolved(run)
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
        """One engine message of `run`'s request: into the diff, the gauges, the status line."""
        kind = msg.get("type")
        if kind == "token":
            self._on_token(run, msg)
        elif kind == "redirected":
            self._mark_redirect(str(msg.get("instruction", run.instruction)))
            run.redirect_armed = True
        elif kind == "tiles":
            self.view.feed_tiles(msg)
        elif kind == "notice":
            run.notices[str(msg.get("code") or "notice")] = str(msg.get("message", ""))
            self.view.show_status(str(msg.get("message", "")), "warn")
        elif kind == "done":
            self._on_done(run, msg)
        elif kind == "error":
            self._on_error(run, msg)

    def _on_token(self, run: EditRun, msg: dict[str, Any]) -> None:
        text = str(msg.get("text", ""))
        count = msg["count"] if isinstance(msg.get("count"), int) else 1  # a closing text piece counts 0
        draft = int(msg.get("draft") or 0)
        run.output += text
        run.tokens += count
        now = time.perf_counter()
        # Asked before the token goes in: the view may paint output after a pause at once.
        if run.first_token_s is None:
            run.first_token_s = now  # replaced by the paint time below
            self.view.after_paint(lambda: self._first_paint(run))
        if run.redirect_enter_s is not None and run.redirect_armed:
            enter_s = run.redirect_enter_s
            run.redirect_enter_s = None
            self.view.after_paint(lambda: self._redirect_paint(enter_s))
        self._feed_diff(text, draft)
        if count:  # a closing text piece (count 0) adds no token to the rate
            self.view.metrics_tokens(count, now, draft)

    def _first_paint(self, run: EditRun) -> None:
        run.first_token_s = time.perf_counter()
        self.view.metrics_first_paint(run.first_token_s)
        self.ttft_ms.append((run.first_token_s - run.started_s) * 1000.0)

    def _redirect_paint(self, enter_s: float) -> None:
        now = time.perf_counter()
        latency_ms = (now - enter_s) * 1000.0
        self.view.metrics_first_paint(now)  # after a stop the gauges restarted: this is their TTFT
        self.redirect_latencies_ms.append(latency_ms)
        self.view.show_status(f"Redirected — first new token painted {latency_ms:.0f} ms after Enter")

    def _on_done(self, run: EditRun, msg: dict[str, Any]) -> None:
        reason = str(msg.get("reason", "eos"))
        if reason == "redirect":
            return  # the continuation follows on the same request
        stats = DoneStats.from_message(msg.get("stats"))
        run.stats = stats
        run.finished = True
        run.stopped = run.stopped or reason == "stop"
        shown = self.view.metrics_done(stats)
        self._finish_diff(run.stopped)
        self._restore_resolved(run)
        if stats.prompt_tokens is not None:
            self.prompt_tokens = stats.prompt_tokens
        summary = _speed_summary(run.tokens, stats, shown)
        summary += _remote_note(stats)
        error = stats.error if reason == "error" else None
        if error is not None and error.code == "context_overflow" and not run.output:
            self._set_mode(Mode.IDLE)
            self._refuse_overflow(run.instruction, error.message or "too long", run.target)
        elif stats.out_of_scope or OUT_OF_SCOPE in run.notices:
            self._set_mode(Mode.REVIEWING if self.unresolved_final() else Mode.IDLE)
            self.view.show_notice(*_fields(out_of_scope_notice(run.instruction, self.model_name,
                                                               self.skill_examples)))
            self.view.show_status(f"Not edited: “{run.instruction}” is outside what "
                                  f"{self.model_name or 'this model'} can do (see above the diff).", "warn")
            self.view.keep_instruction(run.instruction)
        elif error is not None:  # e.g. a remote server that refused or broke off the request
            self._set_mode(Mode.STOPPED if run.output else Mode.IDLE)
            self.view.show_status(f"The edit failed after {summary}: {error.message or error.code}", "error")
            if not run.output:
                self.view.keep_instruction(run.instruction)
        elif run.stopped:
            self._set_mode(Mode.STOPPED)
            problem = self._check_parses(run, reason)
            broken = f" ⚠ Accepting all of it would break the file ({problem.describe()})." if problem else ""
            self.view.show_status(
                f"Stopped after {summary}. Review the partial edit, or type a new instruction and "
                f"press Enter to redirect.{broken}", "warn")
        else:
            hint = " (output hit the length limit)" if reason == "length" else ""
            left = len(self.unresolved_final())
            hunks = len(self.diff.final_hunks) if self.diff else 0
            problem = self._check_parses(run, reason)
            if left and run.unparsable:
                self._set_mode(Mode.REVIEWING)
                where = f" ({problem.describe()})" if problem else ""
                self.view.show_status(f"Done: {summary}{hint}; ⚠ the edited code does not parse{where}: "
                                      f"review the {left} change(s) before accepting.", "warn")
            elif left:
                self._set_mode(Mode.REVIEWING)
                self.view.show_status(f"Done: {summary}{hint}; {left} change(s) to review.", "ok")
            else:
                self._set_mode(Mode.IDLE)
                what = "every change already reviewed" if hunks else "no change to the code"
                self.view.show_status(f"Done: {summary}{hint}; {what}.", "ok")
        self.view.clear_target()

    def _check_parses(self, run: EditRun, reason: str):
        """Mark an edit whose result does not parse (the engine's warning, or the file check here)."""
        if reason not in ("eos", "stop", "length") or self.view.language().lower() not in ("python", "py", "python3"):
            return None
        original = run.snapshot[run.target.start:run.target.end]
        # What accepting every change gives (a stopped edit keeps the original past its last change).
        output = apply_hunks(original, self.diff.final_hunks) if self.diff is not None else run.output
        problem = syntax_problem(run.snapshot, run.target.start, run.target.end, output)
        if problem is None and UNPARSABLE not in run.notices:
            return None
        run.unparsable = True
        if problem is not None:
            self.view.diff_mark_problem(problem.out_line)
        self.view.show_notice(*_fields(unparsable_notice(problem, run.notices.get(UNPARSABLE, ""))))
        return problem

    def _refuse_overflow(self, instruction: str, message: str, target: Target) -> None:
        """Too long for the model: say so with the limit, keep the instruction, offer to narrow."""
        start, end = self.view.selection()
        text = self.view.document_text()
        named = re.search(r"statement at line (\d+)", message)  # the engine's reason, when it names one
        self.narrower = narrower_function(text, start, end, target, int(named.group(1)) if named else 0)
        label = None
        if self.narrower is not None:
            label = self.narrower.label.split(" (")[0]  # "function parse"
        self.view.show_status(message, "error")
        self.view.show_notice(*_fields(overflow_notice(message, label)))
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
        self._finish_diff(True)
        self._restore_resolved(run)
        self._set_mode(Mode.STOPPED if run.output else Mode.IDLE)
        self.view.clear_target()
        if code == ENGINE_LOST:
            self.view.show_status(
                "The engine stopped unexpectedly. Your text is untouched; the partial edit stays "
                "reviewable, and the next instruction restarts the engine.", "error")
        else:
            self.view.show_status(f"The engine refused the edit: {msg.get('message', code)}", "error")
            self.view.keep_instruction(run.instruction)

    # -- the streaming diff (the controller's; the view shows it) -------------------------------

    def _begin_diff(self, original: str) -> None:
        self.diff = StreamingDiff(original)
        self.view.diff_begin(self.diff)

    def _feed_diff(self, text: str, draft_tokens: int) -> None:
        if self.diff is not None:
            self.view.diff_update(self.diff.feed(text, draft_tokens), text)

    def _mark_redirect(self, instruction: str) -> None:
        if self.diff is not None:
            self.view.diff_redirect(self.diff.mark_redirect(instruction))

    def _finish_diff(self, stopped: bool) -> None:
        if self.diff is not None:
            self.view.diff_finished(self.diff.finish(stopped), stopped)

    # -- review ----------------------------------------------------------------------------------

    def _restore_resolved(self, run: EditRun) -> None:
        if self.diff is None:
            return
        for hunk in self.diff.final_hunks:
            state = run.resolved.get(hunk_key(hunk))
            if state:
                self.view.set_hunk_state(hunk.index, state)

    def _final_hunk(self, index: int) -> Hunk | None:
        if self.diff is None:
            return None
        finals = self.diff.final_hunks
        return finals[index] if 0 <= index < len(finals) else None

    def accept_hunks(self, indices: list[int]) -> int:
        """Apply these final hunks to the editor as one undo step; returns how many applied."""
        run = self.run
        if run is None or self.diff is None:
            return 0
        plan = plan_accept(run.snapshot, self.view.document_text(), run.target.start,
                           self.diff.final_hunks, indices, run.resolved)
        if plan.edits:
            step = self.view.replace_ranges(plan.edits)  # the editor's undo position after it, if known
            if isinstance(step, int):
                run.accept_steps[step] = [hunk_key(h) for h in plan.applied]
        for hunk in plan.applied:
            run.resolved[hunk_key(hunk)] = HunkState.ACCEPTED
            self.view.set_hunk_state(hunk.index, HunkState.ACCEPTED)
        for hunk in plan.conflicts:
            self.view.set_hunk_state(hunk.index, HunkState.CONFLICT)
        if plan.conflicts:
            self.view.show_status(conflict_message(plan.conflicts), "error")
        elif plan.applied:
            self.view.show_status(f"Applied {len(plan.applied)} change(s). Ctrl+Z undoes.", "ok")
        elif plan.unsettled:
            self.view.show_status("That change is still streaming; accept it once it settles.", "warn")
        self._check_all_resolved()
        return len(plan.applied)

    def reject_hunks(self, indices: list[int]) -> None:
        run = self.run
        if run is None:
            return
        for index in indices:
            hunk = self._final_hunk(index)
            if hunk is not None and not run.resolved.get(hunk_key(hunk)):
                run.resolved[hunk_key(hunk)] = HunkState.REJECTED
                self.view.set_hunk_state(index, HunkState.REJECTED)
        self._check_all_resolved()

    def unresolved_final(self) -> list[int]:
        if self.run is None or self.diff is None:
            return []
        return [h.index for h in self.diff.final_hunks if not self.run.resolved.get(hunk_key(h))]

    def accept_all(self) -> int:
        """Accept every undecided change; an edit that does not parse asks first (0: not yet)."""
        run, left = self.run, self.unresolved_final()
        if run is not None and run.unparsable and left:
            self.view.confirm(
                f"The edited code does not parse. Accept all {len(left)} change(s) anyway? The file "
                "would not run until it is fixed (Ctrl+Z undoes the accept).", "Accept anyway",
                lambda: self.accept_hunks(left))
            return 0
        return self.accept_hunks(left)

    def reject_all(self) -> None:
        self.reject_hunks(self.unresolved_final())

    def undo_moved(self, position: int, forget_after: bool = False) -> None:
        """The editor's undo stack now stands at `position` (steps available to undo).

        An accept whose step lies past it was undone: its hunks are undecided again; one at or
        before it is applied (again, after a redo). `forget_after`: a new edit cleared the redo
        stack, so accepts past `position` can never come back and are dropped.
        """
        run = self.run
        if run is None or self.diff is None or not run.accept_steps:
            return
        changed = False
        for step, keys in list(run.accept_steps.items()):
            applied = step <= position
            if not applied and forget_after:
                del run.accept_steps[step]
            for key in keys:
                state = run.resolved.get(key)
                if applied and state is None:
                    run.resolved[key] = HunkState.ACCEPTED
                    changed = True
                elif not applied and state == HunkState.ACCEPTED:
                    del run.resolved[key]
                    changed = True
        if not changed:
            return
        for hunk in self.diff.final_hunks:
            self.view.set_hunk_state(hunk.index, run.resolved.get(hunk_key(hunk)) or HunkState.UNDECIDED)
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

    def engine_lost(self, reason: str) -> None:
        """The client reports the connection gone (streams get their own error event)."""
        self._session_opened = False
        if self.mode != Mode.STREAMING:
            self.view.show_status(f"The engine is not running ({reason}); the next instruction restarts it.", "warn")


def _speed_summary(tokens: int, stats: DoneStats, shown: float | None) -> str:
    """"40 tokens, 1,200 tok/s average (engine decode 1,187)": the figure the gauge shows first
    (metrics.shown_rate), the engine's own second and labelled where it differs."""
    tok_s = stats.decode_tok_s
    emulated = stats.emulated_tok_s if stats.paced else None
    if emulated is not None and tok_s:  # the pace the user saw comes first
        return f"{tokens} tokens, {emulated:,.0f} tok/s emulated ({tok_s:,.0f} computed here)"
    if not isinstance(shown, (int, float)) or not shown:
        return f"{tokens} tokens, {tok_s:,.0f} tok/s" if tok_s else f"{tokens} tokens"
    summary = f"{tokens} tokens, {shown:,.0f} tok/s average"
    if tok_s and f"{tok_s:,.0f}" != f"{shown:,.0f}":
        summary += f" (engine decode {tok_s:,.0f})"
    return summary


def _fields(notice) -> tuple[str, str, str]:
    return notice.kind, notice.text, notice.action


def _remote_note(stats: DoneStats) -> str:
    """", via websocket; predicted output 40/52 tokens accepted" for a request a remote server ran."""
    if stats.backend != "remote":
        return ""
    note = f", via {stats.transport or 'http'}"
    if stats.draft_proposed_tokens > 0:
        note += f"; predicted output {stats.draft_accepted_tokens}/{stats.draft_proposed_tokens} tokens accepted"
    return note
