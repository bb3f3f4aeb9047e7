"""Sessions: documents, prefix cache (prewarm), and streaming edits with stop and redirect.

All inference runs on one worker thread (the ORT session and its KV cache are not thread-safe,
and the event loop must never block on a forward pass). The asyncio side only moves events.
Stop and redirect are flags the worker checks before every forward pass, so a stopped request
computes no further token; a long prefill is cut into chunks that check the same flag.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path


import numpy as np

from .decode import EditJob, run_edit_job
from .mailbox import Mailbox
from .events import DoneEvent, NoticeEvent, ReadyEvent, RedirectEvent, TokenEvent
from .modelspec import ModelSpec, load_spec
from .prompts import prefix_for
from .fastrunner import make_decoder
from .runner import Cancelled
from .sampling import SamplingParams


class RequestError(ValueError):
    """A request the engine refuses, with a protocol error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Document:
    text: str  # the whole document
    path: str | None = None  # where it lives, if saved
    language: str = "python"  # Pygments language name
    selection: tuple[int, int] | None = None  # last selection the app told us about (prewarm)


@dataclass
class Session:
    id: str  # client-chosen session id
    document: Document  # current document text
    jobs: dict[str, EditJob] = field(default_factory=dict)  # request id → its (last) job


Pacing = Callable[[int], "asyncio.Future | None"]


class Engine:
    """One loaded model, its worker thread, and the client sessions that use it."""

    def __init__(self, model_dir: str | Path, threads: int = 1):
        self.spec: ModelSpec = load_spec(model_dir)
        self.decoder = make_decoder(self.spec, threads=threads)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tessera-infer")
        self.sessions: dict[str, Session] = {}
        self._active: dict[str, EditJob] = {}  # running jobs by request id

    def warmup(self) -> None:
        """Run one short edit so first-touch allocation is not charged to the user's first request."""
        for speculate in (False, True):  # each decode mode's weight format (engine/fastrunner.py)
            job = EditJob(request_id="warmup", instruction="rename x to y", code="def f(x):\n    return x\n",
                          max_tokens=8, speculate=speculate)
            self._worker.submit(run_edit_job, self.decoder, self.spec, job, lambda ev: None).result()
            self.decoder.reset()

    def close(self) -> None:
        for job in self._active.values():
            job.stop.set()
        self.decoder.cancel.set()
        self._worker.shutdown(wait=True, cancel_futures=True)

    # -- sessions ---------------------------------------------------------------------------
    def open(self, session_id: str, document: Document) -> Session:
        session = Session(session_id, document)
        self.sessions[session_id] = session
        return session

    def session(self, session_id: str) -> Session:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise RequestError("unknown_session", f"no open session {session_id!r}; send 'open' first") from None

    def _prefix_ids(self, doc: Document) -> list[int]:
        """Tokens that do not depend on the instruction: file context and/or the selection."""
        file_context = doc.text if self.spec.file_context else None
        code = doc.text[doc.selection[0]:doc.selection[1]] if doc.selection else ""
        return prefix_for(self.spec, code, file_context)

    def _prefix_features(self, doc: Document, n: int) -> dict[str, np.ndarray] | None:
        """Draft inputs of prefix positions: the aligner's prompt markers (instruction-free)."""
        if not self.spec.extra_inputs:
            return None
        from .align import make_aligner

        code = doc.text[doc.selection[0]:doc.selection[1]] if doc.selection else ""
        src = self.spec.tokenizer.encode(code, add_special_tokens=False).ids if code else []
        feats = make_aligner(self.spec.aligner or {}, src, []).prompt_features(n + 1)
        return {k: np.asarray(v[:n], dtype=np.int64) for k, v in feats.items()}

    async def prewarm(self, session_id: str) -> ReadyEvent:
        """Prefill the session's instruction-independent prefix on the worker thread."""
        doc = self.session(session_id).document
        ids = self._prefix_ids(doc)
        ctx = self.spec.context_length
        if len(ids) >= ctx:
            # Too long to prewarm: still ready; generate reports the overflow with figures.
            return ReadyEvent(session_id, len(ids), 0.0, ctx)

        def work() -> tuple[float, int]:
            t0 = time.perf_counter()
            dec = self.decoder
            extra = self._prefix_features(doc, len(ids))
            keep = dec.common_prefix(ids, extra)
            dec.rewind(keep)
            if keep < len(ids):
                dec.cancel.clear()
                try:
                    dec.prefill(ids[keep:], None if extra is None else {k: v[keep:] for k, v in extra.items()})
                except Cancelled:
                    dec.rewind(keep)
            return (time.perf_counter() - t0) * 1e3, keep

        ms, keep = await asyncio.get_running_loop().run_in_executor(self._worker, work)
        return ReadyEvent(session_id, len(ids), round(ms, 3), ctx, keep)

    def measure(self, session_id: str, instruction: str, selection: tuple[int, int] | None) -> dict:
        """Prompt size of a would-be request, for the app's context meter."""
        from .prompts import prompt_for

        text = self.session(session_id).document.text
        start, end = selection if selection is not None else (0, len(text))
        if end > len(text):
            raise RequestError("bad_selection", f"selection {start}:{end} is outside the document (0:{len(text)})")
        prompt = prompt_for(self.spec, instruction, text[start:end], text if self.spec.file_context else None)
        n = len(prompt.ids)
        return {"type": "measured", "session": session_id, "prompt_tokens": n,
                "source_tokens": len(prompt.source_ids), "context_length": self.spec.context_length,
                "fits": n + len(prompt.source_ids) < self.spec.context_length}

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
    ) -> EditJob:
        session = self.session(session_id)
        if request_id in self._active:
            raise RequestError("duplicate_request", f"request {request_id!r} is already running")
        text = session.document.text
        start, end = selection if selection is not None else (0, len(text))
        if not (0 <= start <= end <= len(text)):
            raise RequestError("bad_selection", f"selection {start}:{end} is outside the document (0:{len(text)})")
        if not instruction.strip():
            raise RequestError("bad_request", "the instruction is empty")
        job = EditJob(
            request_id=request_id, instruction=instruction.strip(), code=text[start:end],
            file_context=text if self.spec.file_context else None,
            max_tokens=max_tokens, sampling=sampling or SamplingParams(), speculate=speculate,
            prediction=prediction,
        )
        session.jobs[request_id] = job
        return job

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
        job.stop.set()
        if job.running:  # cut the decoder's current call short (not another request's)
            self.decoder.cancel.set()
        return True

    def redirect(self, request_id: str, instruction: str) -> EditJob | None:
        """Steer a running request; returns the finished job to restart when it already ended."""
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
        return job

    async def stream(self, job: EditJob, pacing: Pacing | None = None) -> AsyncIterator[object]:
        """Run `job` on the worker thread and yield its events as they come.

        Tokens that pile up while the consumer is busy are merged into one event (count > 1).
        `pacing(n)` may return an awaitable that delays the release of the n-th token (the wafer
        emulation's pacer); the worker never waits for it.
        """
        loop = asyncio.get_running_loop()
        mailbox = Mailbox(loop)
        if job.request_id in self._active:
            raise RequestError("duplicate_request", f"request {job.request_id!r} is already running")
        self._active[job.request_id] = job
        job.stop.clear()
        notice = self._scope_notice(job)
        if notice is not None:
            yield notice
        seg_start = len(job.output_ids)  # output index where this run's tokens begin
        released_end, released_chars = seg_start, len(job.output_text)  # what the client has seen
        future = loop.run_in_executor(self._worker, run_edit_job, self.decoder, self.spec, job, mailbox.post_quiet,
                                      mailbox.wake)

        def worker_failed(f: asyncio.Future) -> None:  # run_edit_job reports its own errors; this is
            if not f.cancelled() and f.exception() is not None:  # the net under it: never hang the stream
                job.running = False
                mailbox.post(DoneEvent(job.request_id, "error", {"error": {
                    "code": "engine_error", "message": f"{type(f.exception()).__name__}: {f.exception()}"}},
                    job.output_text))

        future.add_done_callback(worker_failed)
        pending: list = []
        try:
            while True:
                if not pending:
                    batch = await mailbox.take()
                    # Paced tokens go out one by one at their emulated times; unpaced bursts merge.
                    pending = batch if pacing is not None else _merge_tokens(batch)
                ev = pending.pop(0)
                if isinstance(ev, TokenEvent):
                    if pacing is not None and not job.stop.is_set():
                        waiter = pacing(ev.index + max(ev.count, 1))
                        if waiter is not None:
                            await waiter
                    if pacing is not None and job.stop.is_set():
                        continue  # stopped while held back: the user never sees these tokens
                    ev.t_emit_ms = round((time.monotonic() - job.t_arrival) * 1e3, 3)
                    released_end = max(released_end, ev.index + ev.count)
                    released_chars += len(ev.text)
                if isinstance(ev, DoneEvent):
                    # The worker posts `done` as its last act on the job (only a wake-up follows), so
                    # the client may see it without waiting for the worker's return to reach the loop.
                    if pacing is not None and job.stop.is_set() and released_end < len(job.output_ids):
                        _truncate_to_released(job, ev, seg_start, released_end, released_chars)
                    self._active.pop(job.request_id, None)
                    yield ev
                    break
                yield ev
        finally:
            if not future.done():
                job.stop.set()
                if job.running:
                    self.decoder.cancel.set()
            try:
                await asyncio.shield(future)
            except Exception:  # reported to the client as an error `done` by worker_failed
                pass
            self._active.pop(job.request_id, None)

    def _scope_notice(self, job: EditJob) -> NoticeEvent | None:
        if not self.spec.skills or self.spec.skill_for(job.instruction) is not None:
            job.out_of_scope = False
            return None
        job.out_of_scope = True
        msg = self.spec.out_of_scope_notice or (
            f"'{job.instruction}' is outside what {self.spec.name} was trained for; "
            "it will return the code unchanged. Load a larger model for this edit.")
        return NoticeEvent(job.request_id, "out_of_scope", msg)


def _truncate_to_released(job: EditJob, done: DoneEvent, seg_start: int, end: int, chars: int) -> None:
    """A paced request stopped with tokens computed but not yet shown: the output is what was shown.

    A later redirect then continues from exactly what the user saw.
    """
    computed = len(job.output_ids) - seg_start
    del job.output_ids[end:]
    job.output_text = job.output_text[:chars]
    job._stream = None  # its held-back bytes belonged to dropped tokens
    done.reason = "stop"
    done.text = job.output_text
    done.stats.update(tokens=end - seg_start, total_tokens=len(job.output_ids), computed_tokens=computed)


def _merge_tokens(events: list) -> list:
    """Merge runs of consecutive token events into one event each (count > 1)."""
    out: list = []
    for ev in events:
        prev = out[-1] if out else None
        if isinstance(ev, TokenEvent) and isinstance(prev, TokenEvent):
            out[-1] = TokenEvent(prev.request, prev.index, prev.text + ev.text, prev.count + ev.count,
                                 ev.t_compute_ms, ev.t_emit_ms, prev.draft + ev.draft)
        else:
            out.append(ev)
    return out


__all__ = ["Engine", "Document", "Session", "RequestError", "TokenEvent", "DoneEvent",
           "RedirectEvent", "NoticeEvent", "ReadyEvent"]
