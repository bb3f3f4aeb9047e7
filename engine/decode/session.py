"""The engine: one loaded model, its sessions and prefix cache (prewarm), and edit jobs with stop and redirect.

All inference runs on one worker thread (the ORT session and its KV cache are not thread-safe,
and the event loop must never block on a forward pass). The asyncio side only moves events:
how a run's events reach a client (merged, paced, stop exact) is the serving side's
(engine/backends/release.py). Stop and redirect are flags the worker checks before every
forward pass, so a stopped request computes no further token; a long prefill is cut into chunks
that check the same flag.
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from wire import Problem, check_selection

from .documents import Document, RequestError, Session
from .job import EditJob
from .loop import run_edit_job
from .mailbox import Mailbox
from .events import DoneEvent, DoneStats, NoticeEvent, ReadyEvent, RedirectEvent, TokenEvent
from ..model.prompts import prefix_for
from .reframe import frame_for
from ..model.runner import Cancelled
from .sampling import SamplingParams
from ..model.selfcheck import load_model


class Engine:
    """One loaded model, its worker thread, and the client sessions that use it.

    Session and request ids are the engine's own: the server gives each connection its own
    namespace of them (engine/serve/server.py), so one client can neither see nor steer another's.
    """

    def __init__(self, model_dir: str | Path, threads: int = 1, check: bool = True):
        self.spec, self.decoder = load_model(model_dir, threads, check)  # one-line ModelFolderError if broken
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tessera-infer")
        # Tokenizing for prewarm and measure: off the event loop, and not queued behind a stream.
        self._prep = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tessera-prep")
        self.sessions: dict[str, Session] = {}
        self._active: dict[str, EditJob] = {}  # request id → job, from make_job until its `done`

    def warmup(self) -> None:
        """Run one short edit so first-touch allocation is not charged to the user's first request."""
        for speculate in (False, True):  # each decode mode's weight format (engine/model/fastrunner.py)
            job = EditJob(request_id="warmup", instruction="rename x to y", code="def f(x):\n    return x\n",
                          max_tokens=8, speculate=speculate)
            self._worker.submit(run_edit_job, self.decoder, self.spec, job, lambda ev: None).result()
            self.decoder.reset()

    def close(self) -> None:
        for job in self._active.values():
            job.stop.set()
        self.decoder.cancel.set()
        self._prep.shutdown(wait=True, cancel_futures=True)
        self._worker.shutdown(wait=True, cancel_futures=True)

    # -- sessions ---------------------------------------------------------------------------
    def open(self, session_id: str, document: Document) -> Session:
        old = self.sessions.get(session_id)
        session = Session(session_id, document)
        if old is not None:  # re-opened: its requests stay reachable for stop and redirect
            session.jobs = old.jobs
        self.sessions[session_id] = session
        return session

    def session(self, session_id: str) -> Session:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise RequestError("unknown_session", f"no open session {session_id!r}; send 'open' first") from None

    def close_session(self, session_id: str) -> None:
        """Forget a session and stop its running requests."""
        session = self.session(session_id)
        del self.sessions[session_id]
        for rid in session.jobs:
            self.stop(rid)

    def _prefix_ids(self, text: str, selection: tuple[int, int] | None) -> tuple[list[int] | None, int]:
        """Tokens that do not depend on the instruction (file context and/or the selection).

        (None, a lower bound on the count) when they certainly overflow the context.
        """
        code = _model_code(text, selection)
        for piece in ((text, code) if self.spec.file_context else (code,)):
            over = self.spec.tokens_beyond(piece, self.spec.context_length)
            if over is not None:
                return None, over
        ids = prefix_for(self.spec, code, text if self.spec.file_context else None)
        return ids, len(ids)

    def _prefix_features(self, text: str, selection: tuple[int, int] | None, n: int) -> dict[str, np.ndarray] | None:
        """Draft inputs of prefix positions: the aligner's prompt markers (instruction-free)."""
        if not self.spec.extra_inputs:
            return None
        from ..model.align import make_aligner

        code = _model_code(text, selection)
        src = self.spec.tokenizer.encode(code, add_special_tokens=False).ids if code else []
        feats = make_aligner(self.spec.aligner or {}, src, []).prompt_features(n + 1)
        return {k: np.asarray(v[:n], dtype=np.int64) for k, v in feats.items()}

    async def prewarm(self, session_id: str) -> ReadyEvent:
        """Prefill the session's instruction-independent prefix on the worker thread.

        The document as it is now is what gets prefilled; tokenizing runs off the event loop.
        """
        doc = self.session(session_id).document
        text, selection = doc.text, doc.selection
        loop = asyncio.get_running_loop()
        ids, n = await loop.run_in_executor(self._prep, self._prefix_ids, text, selection)
        ctx = self.spec.context_length
        if ids is None or n >= ctx:
            # Too long to prewarm: still ready; generate reports the overflow with figures.
            return ReadyEvent(session_id, n, 0.0, ctx)

        def work() -> tuple[float, int]:
            t0 = time.perf_counter()
            dec = self.decoder
            extra = self._prefix_features(text, selection, len(ids))
            keep = dec.common_prefix(ids, extra)
            dec.rewind(keep)
            if keep < len(ids):
                dec.cancel.clear()
                try:
                    dec.prefill(ids[keep:], None if extra is None else {k: v[keep:] for k, v in extra.items()})
                except Cancelled:
                    dec.rewind(keep)
            return (time.perf_counter() - t0) * 1e3, keep

        ms, keep = await loop.run_in_executor(self._worker, work)
        return ReadyEvent(session_id, len(ids), round(ms, 3), ctx, keep)

    async def measure(self, session_id: str, instruction: str, selection: tuple[int, int] | None) -> dict:
        """Prompt size of a would-be request, for the app's context meter (tokenized off the loop)."""
        text = self.session(session_id).document.text
        start, end = check_selection(selection, len(text))
        return await asyncio.get_running_loop().run_in_executor(
            self._prep, self._measure, session_id, instruction, text, start, end)

    def _measure(self, session_id: str, instruction: str, text: str, start: int, end: int) -> dict:
        from ..model.prompts import prompt_for

        ctx = self.spec.context_length
        reply = {"type": "measured", "session": session_id, "context_length": ctx}
        frame = frame_for(text, start, end, instruction)
        code = frame.model_code
        for piece in ((text, code) if self.spec.file_context else (code,)):
            over = self.spec.tokens_beyond(piece, ctx)
            if over is not None:  # certainly too long: a lower bound is enough to say so
                return {**reply, "prompt_tokens": over, "source_tokens": min(over, len(code)), "fits": False,
                        **(self._measure_windows(instruction, text, start, end) if piece is code else {})}
        prompt = prompt_for(self.spec, frame.encode_text(instruction), code, text if self.spec.file_context else None)
        n = len(prompt.ids)
        reply.update(prompt_tokens=n, source_tokens=len(prompt.source_ids), fits=n + len(prompt.source_ids) < ctx)
        if not reply["fits"]:
            reply.update(self._measure_windows(instruction, text, start, end))
        return reply

    def _measure_windows(self, instruction: str, text: str, start: int, end: int) -> dict:
        """A target too long for one prompt fits when `make_job` would edit it in windows:
        ``windows`` (how many), or ``refusal`` (why it cannot be cut)."""
        from .windows import MAX_WINDOWS

        if end - start > 4 * MAX_WINDOWS * self.spec.context_length:  # ~2 chars a token at the least
            return {}  # far past what windows can hold: not worth cutting to say so
        job = EditJob(request_id="measure", instruction=instruction.strip() or "edit", code=text[start:end],
                      frame=frame_for(text, start, end, instruction))
        windows = self._windows(job, text, start, end)
        if windows:
            return {"fits": True, "windows": len(windows)}
        return {"refusal": job.refusal} if job.refusal else {}

    # -- requests ---------------------------------------------------------------------------
    def make_job(
        self,
        session_id: str,
        request_id: str,
        instruction: str,
        selection: tuple[int, int] | None,
        max_tokens: int | None = None,
        sampling: SamplingParams | None = None,
        speculate: bool = True,
        prediction: str | None = None,
        focused: bool = True,
    ) -> EditJob:
        """A new request, registered as running at once: a stop or redirect that follows in the
        same breath finds it (the stream that runs it may not have started yet)."""
        session = self.session(session_id)
        if request_id in self._active:
            raise RequestError("duplicate_request", f"request {request_id!r} is already running")
        text = session.document.text
        start, end = check_selection(selection, len(text))
        if not instruction.strip():
            raise RequestError("bad_request", "the instruction is empty")
        job = EditJob(
            request_id=request_id, instruction=instruction.strip(), code=text[start:end],
            file_context=text if self.spec.file_context else None,
            max_tokens=max_tokens, sampling=sampling or SamplingParams(), speculate=speculate,
            prediction=prediction, session_id=session_id, frame=frame_for(text, start, end, instruction),
            first_line=text.count("\n", 0, start) + 1, focused=focused,
        )
        if self._overflows(job) or (focused and self._focused(job)):
            job.windows = self._windows(job, text, start, end, focused)
            job.planned_for = job.instruction
        session.jobs[request_id] = job
        self._active[request_id] = job
        return job

    def unregister(self, job: EditJob) -> None:
        """Unregister a job whose stream will not run (or has ended)."""
        if self._active.get(job.request_id) is job:
            del self._active[job.request_id]

    def _overflows(self, job: EditJob) -> bool:
        """Prompt plus an output as long as the source (and room for additions) outgrow the context."""
        from .windows import OUTPUT_ROOM

        for text in (job.file_context, job.model_code):  # far beyond: never tokenized whole on the loop
            if text is not None and self.spec.tokens_beyond(text, self.spec.context_length) is not None:
                return True
        prompt = job.prompt(self.spec)
        return len(prompt.ids) + len(prompt.source_ids) + OUTPUT_ROOM >= self.spec.context_length

    def _focused(self, job: EditJob) -> bool:
        """The skill changes statements one by one (engine/decode/windows.py FOCUSED): only those go to the model."""
        from .windows import FOCUSED

        found = self.spec.skill_for(job.model_instruction) if self.spec.skills else None
        return (found is not None and found.name in FOCUSED and self.spec.chat is None
                and not self.spec.file_context)

    def _windows(self, job: EditJob, text: str, start: int, end: int, focused: bool = True) -> list[EditJob] | None:
        """The windows of a long target (engine/decode/windows.py), or a context_overflow refusal naming the limit."""
        from ..model.prompts import encode
        from ..skills import touches
        from .windows import FOCUSED, WindowError, focused_plan, plan, source_budget

        tok = self.spec.tokenizer
        found = self.spec.skill_for(job.model_instruction) if self.spec.skills else None
        skill = found.name if found is not None else ("out_of_scope" if self.spec.skills else None)
        if self.spec.chat is not None or self.spec.file_context:
            return None  # the decode loop reports the overflow with its figures
        budget = source_budget(self.spec.context_length, len(encode(tok, job.model_instruction)))
        count = lambda code: len(encode(tok, code))  # noqa: E731
        if focused and skill in FOCUSED:
            ranges = focused_plan(text, start, end, skill, count, budget)
            if ranges is not None:
                return [window_of(job, text, a, b, pass_on=not edit) for a, b, edit in ranges]
            if not self._overflows(job):
                return None
        try:
            ranges = plan(text, start, end, lambda code: len(encode(tok, code)), budget,
                          passable=lambda code: not touches(skill, job.instruction, code))
        except WindowError as exc:
            job.refusal = (f"{exc}; {self.spec.name} holds {self.spec.context_length} tokens of context (prompt "
                           "and output). Select less code (the enclosing function), or load a model with a "
                           "longer context.")
            return None
        return [window_of(job, text, a, b) for a, b in ranges]

    def replan(self, parent: EditJob, i: int) -> None:
        """Cut `parent`'s windows from `i` on anew for its current instruction (after a redirect):
        focused windows of the old skill would pass on code the new instruction changes. Where the
        rest cannot be cut, its windows stay, each decided by the new skill (``pass_on`` cleared)."""
        rest = "".join(w.code for w in parent.windows[i:])
        parent.planned_for = parent.instruction
        if not rest:
            return
        tmp = window_of(parent, rest, 0, len(rest))
        windows = (self._windows(tmp, rest, 0, len(rest), parent.focused)
                   if self._overflows(tmp) or (parent.focused and self._focused(tmp)) else None)
        if windows is None and tmp.refusal is None:
            windows = [tmp]
        if windows is None:
            for w in parent.windows[i:]:
                w.pass_on = None
            return
        parent.windows[i:] = windows

    def find_job(self, request_id: str) -> EditJob | None:
        if request_id in self._active:
            return self._active[request_id]
        for s in self.sessions.values():
            if request_id in s.jobs:
                return s.jobs[request_id]
        return None

    def stop(self, request_id: str) -> bool:
        """Stop a running request before its next token; False if it is not running."""
        job = self._active.get(request_id)
        if job is None:
            return False
        if job.t_stop is None:
            job.t_stop = time.monotonic()
        job.stop.set()
        if job.running:  # cut the decoder's current call short (not another request's)
            self.decoder.cancel.set()
        return True

    def redirect(self, request_id: str, instruction: str) -> EditJob | None:
        """Steer a request; returns the finished job to restart when its stream has ended.

        A running request (or one whose stream has not started yet) takes the new instruction
        before its next token; one that was stopped or ended meanwhile continues after its `done`.
        """
        if not instruction.strip():
            raise RequestError("bad_request", "the new instruction is empty")
        job = self._active.get(request_id)
        if job is not None:
            job.request_redirect(instruction.strip())
            return None
        job = self.find_job(request_id)
        if job is None:
            raise RequestError("unknown_request", f"no request {request_id!r} to redirect")
        job.restart_with(instruction.strip())
        self._active[request_id] = job
        return job

    # -- the worker ---------------------------------------------------------------------------
    def registered(self, request_id: str) -> EditJob | None:
        """The job registered as running under `request_id` (a stop or redirect reaches it)."""
        return self._active.get(request_id)

    def register(self, job: EditJob) -> None:
        """Register `job` as running under its request id, so that stop and redirect find it."""
        self._active[job.request_id] = job

    def unregister_id(self, request_id: str) -> None:
        """No job runs under `request_id` for now (between the windows of a long target)."""
        self._active.pop(request_id, None)

    def interrupt(self, job: EditJob) -> None:
        """End the computation of `job` before its next token (the stream's own doing, not a
        client's stop: no stop time is recorded)."""
        job.stop.set()
        if job.running:  # cut the decoder's current call short (not another request's)
            self.decoder.cancel.set()

    def run(self, job: EditJob, mailbox: Mailbox) -> asyncio.Future:
        """Submit one run of `job` to the worker, posting into `mailbox`; a crash there still ends
        the run with `done`. The release of the events to a client is the serving side's
        (engine/backends/release.py)."""
        future = asyncio.get_running_loop().run_in_executor(
            self._worker, run_edit_job, self.decoder, self.spec, job, mailbox.post_quiet, mailbox.wake)

        def worker_failed(f: asyncio.Future) -> None:  # run_edit_job reports its own errors; this is
            if not f.cancelled() and f.exception() is not None:  # the net under it: never hang the stream
                job.running = False
                mailbox.post(DoneEvent(job.request_id, "error", DoneStats(error=Problem(
                    "engine_error", f"{type(f.exception()).__name__}: {f.exception()}")), job.output_text))

        future.add_done_callback(worker_failed)
        return future

    def scope_problem(self, job: EditJob) -> tuple[str, str] | None:
        """(notice code, message) when the model's skills do not cover `job`, else None:
        ``out_of_scope`` for an instruction outside them, ``needs_function`` for a skill that edits
        one function (a docstring) asked of code that does not start with one (a whole file),
        ``nothing_to_change`` for a new request whose skill finds nothing to change in the code (no
        print to remove; the engine answers with the code unchanged without the model)."""
        if not self.spec.skills:
            return None
        skill = self.spec.skill_for(job.model_instruction)
        if skill is None:
            return "out_of_scope", self.spec.out_of_scope_notice or (
                f"'{job.instruction}' is outside what {self.spec.name} was trained for; "
                "it will return the code unchanged. Load a larger model for this edit.")
        if skill.name == "add_docstring" and not starts_with_function(job.model_code):
            first = next((ln.strip() for ln in job.model_code.splitlines() if ln.strip()), "")
            return "needs_function", (
                f"'{job.instruction}' writes the docstring of one function, and this selection starts with "
                f"“{first[:60]}”, not a def. Put the cursor in a function (or select one) and send it again; "
                "the code is unchanged.")
        if not job.window and not job.output_ids:
            from ..skills import nothing_to_change

            why = nothing_to_change(skill.name, job.instruction, job.code)
            if why is not None:
                return "nothing_to_change", f"Nothing to change for '{job.instruction}': {why}. The code is unchanged."
        return None

    def scope_notice(self, job: EditJob) -> NoticeEvent | None:
        """The notice that the model's skills do not cover `job` (and mark it so), or None."""
        problem = self.scope_problem(job)
        job.out_of_scope = problem is not None and problem[0] != "nothing_to_change"
        return NoticeEvent(job.request_id, *problem) if problem else None


def window_of(job: EditJob, text: str, a: int, b: int, pass_on: bool | None = None) -> EditJob:
    """The edit of text[a:b] as one window of `job`: its instruction, sampling and arrival."""
    return EditJob(request_id=job.request_id, instruction=job.instruction, code=text[a:b], sampling=job.sampling,
                   speculate=job.speculate, t_arrival=job.t_arrival, frame=frame_for(text, a, b, job.instruction),
                   window=True, pass_on=pass_on)


def starts_with_function(code: str) -> bool:
    """The code's first statement, past blank lines, comments and decorators (over several lines
    too), is a ``def``."""
    depth = 0  # brackets still open in a decorator
    for line in code.splitlines():
        stripped = line.strip()
        if depth > 0 or stripped.startswith("@"):
            depth = max(0, depth + sum(stripped.count(c) for c in "([{") - sum(stripped.count(c) for c in ")]}"))
            continue
        if stripped and not stripped.startswith("#"):
            return re.match(r"(?:async\s+)?def\b", stripped) is not None
    return False


def _model_code(text: str, selection: tuple[int, int] | None) -> str:
    """The selection as the model sees it (engine/decode/reframe.py), for prewarm; '' without a selection."""
    if not selection:
        return ""
    start, end = selection
    if not (0 <= start <= end <= len(text)):
        return ""
    return frame_for(text, start, end).model_code


__all__ = ["Engine", "Document", "Session", "RequestError", "TokenEvent", "DoneEvent",
           "RedirectEvent", "NoticeEvent", "ReadyEvent"]
