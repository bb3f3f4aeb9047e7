"""Replay of recorded responses behind the backend seam: every participant sees the same output.

`ReplayBackend` wraps the embedded ONNX backend (sessions, prewarm and live generation stay
its own) and a `ResponseCache` (engine/backends/response_cache.py), in one of two modes:

- ``record``: requests run live and each output is stored under model + prompt
  (``tessera study warm``);
- ``replay``: a request whose prompt is in the cache is served from it, each token released by
  the request's pacer (a hardware profile or explicit timing) exactly as a live token would be;
  any other request (a free-form prompt) runs live. ``DoneEvent.stats.response_source`` says
  which: ``replay``, ``live``, ``recorded``, or ``replay+live`` (redirected during a replay: it
  continues live from exactly the tokens shown).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from ..decode.job import EditJob
from ..decode.events import DoneEvent, DoneStats, RedirectEvent, TokenEvent
from .response_cache import Response, ResponseCache, prompt_key
from ..model.tokenizer import StreamDecoder
from .edit_stream import stream_edit
from . import Event, GenerateRequest, RequestError
from .onnx import OnnxBackend

RECORD, REPLAY = "record", "replay"


class ReplayBackend:
    """See the module docstring; the `Backend` protocol of engine/backends/__init__.py."""

    def __init__(self, inner: OnnxBackend, cache: ResponseCache, mode: str = REPLAY):
        if mode not in (RECORD, REPLAY):
            raise ValueError(f"mode must be {RECORD!r} or {REPLAY!r}, got {mode!r}")
        self.inner = inner
        self.engine = inner.engine
        self.cache = cache
        self.mode = mode
        self._replaying: dict[str, EditJob] = {}  # request id → job being replayed now
        self._replayed: set[str] = set()  # request ids that were served from the cache

    # -- what the inner backend does unchanged ------------------------------------------------
    def models(self):
        return self.inner.models()

    def describe(self) -> dict:
        return self.inner.describe()

    def open(self, session, document) -> None:
        self.inner.open(session, document)

    def document(self, session):
        return self.inner.document(session)

    def update(self, session, text, selection) -> None:
        self.inner.update(session, text, selection)

    def close_session(self, session) -> None:
        self.inner.close_session(session)

    async def prewarm(self, session):
        return await self.inner.prewarm(session)

    def measure(self, session, instruction, selection) -> dict:
        return self.inner.measure(session, instruction, selection)

    def close(self) -> None:
        for job in self._replaying.values():
            job.stop.set()
        self.inner.close()

    async def aclose(self) -> None:
        for job in self._replaying.values():
            job.stop.set()
        await self.inner.aclose()

    # -- requests ------------------------------------------------------------------------------
    def generate(self, request: GenerateRequest) -> AsyncIterator[Event]:
        if request.request in self._replaying:
            raise RequestError("duplicate_request", f"request {request.request!r} is already running")
        job = self.engine.make_job(request.session, request.request, request.instruction, request.selection,
                                   request.max_tokens, request.sampling, request.speculate,
                                   prediction=request.prediction, focused=request.focused)
        self.inner.ask_pacing(request)
        try:
            pace, stats = self.inner.pacing_for(job)
        except RequestError:
            self.engine.unregister(job)  # make_job registered it as running; nothing will run it
            raise
        key, prompt_tokens = prompt_key(self.engine.spec, job)
        response = self.cache.get(key) if self.mode == REPLAY else None
        if response is not None:
            return self._replay(job, response, pace, stats, prompt_tokens)
        if self.mode == RECORD:
            return self._record(job, key, pace, stats)
        return self._live(job, pace, stats, "live")

    def stop(self, request: str) -> bool:
        job = self._replaying.get(request)
        if job is not None:
            job.stop.set()
            return True
        return self.inner.stop(request)

    def knows(self, request: str) -> bool:
        return request in self._replaying or self.inner.knows(request)

    def redirect(self, request: str, instruction: str) -> AsyncIterator[Event] | None:
        job = self._replaying.get(request)
        if job is not None:
            if not instruction.strip():
                raise RequestError("bad_request", "the new instruction is empty")
            job.request_redirect(instruction.strip())  # the replay hands over to live generation
            return None
        job = self.engine.redirect(request, instruction)
        if job is None:
            return None
        if job._stream is None and job.output_ids:  # a replayed request, continued after it ended
            self._prime_detokenizer(job)
        pace, stats = self.inner.pacing_for(job)
        return self._live(job, pace, stats, "replay+live" if request in self._replayed else "live")

    # -- streams -------------------------------------------------------------------------------
    async def _live(self, job: EditJob, pace, pace_stats, source: str) -> AsyncIterator[Event]:
        async for ev in stream_edit(self.engine, job, pace):
            if isinstance(ev, DoneEvent):
                if pace_stats is not None:
                    ev.stats.update(**pace_stats())
                ev.stats.response_source = source
            yield ev

    async def _record(self, job: EditJob, key: str, pace, pace_stats) -> AsyncIterator[Event]:
        tokens: list = []
        # A pacing hook that never waits keeps the worker's events one token each (unmerged).
        async for ev in stream_edit(self.engine, job, pace or (lambda _n: None)):
            if isinstance(ev, TokenEvent):
                # the token's id is looked up at the end: a long target's windows add theirs to
                # the request's output ids only when each window is done
                tokens.append([ev.index if ev.count else None, ev.text, int(ev.draft > 0)])
            elif isinstance(ev, RedirectEvent):
                key = ""  # a redirected run is not the prompt's response
            elif isinstance(ev, DoneEvent):
                if pace_stats is not None:
                    ev.stats.update(**pace_stats())
                tokens = [[None if i is None else job.output_ids[i], text, draft] for i, text, draft in tokens]
                recorded = bool(key) and ev.reason in ("eos", "length") and "".join(t[1] for t in tokens) == ev.text
                if recorded:
                    self.cache.put(key, Response(tokens, ev.reason, self.engine.spec.name))
                    self.cache.save()
                    ev.stats.response_key = key
                ev.stats.response_source = "recorded" if recorded else "live"
            yield ev

    async def _replay(self, job: EditJob, response: Response, pace, pace_stats,
                      prompt_tokens: int) -> AsyncIterator[Event]:
        """The recorded token events, each released when `pace` allows; stop and redirect as live."""
        rid = job.request_id
        self._replaying[rid] = job
        self._replayed.add(rid)
        job.segments += 1
        t0 = job.t_arrival
        ms = lambda: round((time.monotonic() - t0) * 1e3, 3)  # noqa: E731
        budget = job.max_tokens if job.max_tokens is not None else len(response.tokens)
        reason, shown, first_ms, last_ms, redirect_to = response.reason, 0, None, None, None
        try:
            for i, (tok, text, draft) in enumerate(response.tokens):
                if job.stop.is_set():
                    reason = "stop"
                    break
                redirect_to = job.take_redirect()
                if redirect_to is not None:
                    break
                counted = tok is not None
                if counted and shown >= budget:
                    reason = "length"
                    break
                if pace is not None and (counted or shown == 0):  # text before the first token: at the TTFT
                    waiter = pace(shown + 1)
                    if waiter is not None:
                        await waiter
                    if job.stop.is_set():
                        reason = "stop"  # stopped while held back: the user never sees it
                        break
                elif pace is None and i % 16 == 0:
                    await asyncio.sleep(0)  # unpaced: let a stop in between
                t = ms()
                if counted:
                    job.output_ids.append(int(tok))
                    first_ms = t if first_ms is None else first_ms
                    last_ms = t
                job.output_text += text
                yield TokenEvent(rid, shown, text, int(counted), t, t, int(bool(draft) and job.speculate))
                shown += int(counted)
        finally:
            self._replaying.pop(rid, None)
            self.engine.unregister(job)  # ended for the engine too: a later redirect continues it live
        self._prime_detokenizer(job)  # a later redirect continues live from here
        if redirect_to is not None:
            yield RedirectEvent(rid, len(job.output_ids), len(job.output_text), redirect_to)
            job.instruction = redirect_to
            async for ev in self._live(job, pace, pace_stats, "replay+live"):
                yield ev
            return
        n = len(job.output_ids)
        decode_s = (last_ms - first_ms) / 1000.0 if first_ms is not None and n > 1 else 0.0
        stats = DoneStats(tokens_out=n, tokens_total=n, ttft_ms=first_ms, total_ms=ms(),
                          decode_tok_s=round((n - 1) / decode_s, 1) if decode_s > 0 else 0.0,
                          prompt_tokens=prompt_tokens, speculate=job.speculate, response_source="replay")
        if pace_stats is not None:
            stats.update(**pace_stats())
        yield DoneEvent(rid, reason, stats, job.output_text)

    def _prime_detokenizer(self, job: EditJob) -> None:
        dec = StreamDecoder(self.engine.spec.tokenizer, self.engine.spec.byte_table)
        for tok in job.output_ids:
            dec.push(tok)  # the detokenizer's state after the text already shown
        job._stream = dec
