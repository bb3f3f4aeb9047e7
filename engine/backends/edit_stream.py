"""How the ONNX backend answers one edit request: refused, out of scope, in windows, or one run.

A target too long even for windows is refused with its figures; an instruction outside the skills
of a model that declares them gets the code back unchanged; a long target runs window by window
(planned by engine/decode/windows.py) as one request with one index space and one `done`;
anything else is one run, released by engine/backends/release.py.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace

from wire import Problem

from ..decode.degenerate import UNPARSABLE
from ..decode.documents import RequestError
from ..decode.events import DoneEvent, DoneStats, NoticeEvent, RedirectEvent, TokenEvent
from ..decode.job import EditJob
from ..decode.session import Engine
from ..decode.windows import passes_through, whole_review_notice, whole_stopped_parsing
from .release import Pacing, release_run


async def stream_edit(engine: Engine, job: EditJob, pacing: Pacing | None = None) -> AsyncIterator[object]:
    """Run `job` and yield its events: a long target window by window (engine/decode/windows.py plans them).

    An instruction outside the skills of a model that declares them gets the code back unchanged
    without running the model (what such a model is trained to do), after the notice that says so,
    however long the target; a target too long even for windows is refused.
    """
    notice = engine.scope_notice(job) if not job.output_ids else None
    if notice is not None:  # outside the skills, or nothing to change: the code back unchanged, without the model
        finished = False
        try:
            yield notice
            t_ms = round((time.monotonic() - job.t_arrival) * 1e3, 3)
            if job.code:
                yield TokenEvent(job.request_id, 0, job.code, 0, t_ms, t_ms)
            finished = True
        finally:
            engine.unregister(job)
            if not finished:  # closed early: stopped like any request
                job.stop.set()
        yield DoneEvent(job.request_id, "eos", DoneStats(
            tokens_total=0, prompt_tokens=0, cached_tokens=0, out_of_scope=job.out_of_scope,
            context_tokens=engine.spec.context_length, total_ms=t_ms), job.code)
        return
    if job.refusal:
        yield DoneEvent(job.request_id, "error", DoneStats(
            tokens_total=0, prompt_tokens=0, context_tokens=engine.spec.context_length,
            error=Problem("context_overflow", job.refusal)), "")
        engine.unregister(job)
        return
    if job.windows:
        other = engine.registered(job.request_id)
        if other is not None and other is not job:
            raise RequestError("duplicate_request", f"request {job.request_id!r} is already running")
        notice = engine.scope_notice(job)
        if notice is not None:
            yield notice
        async with aclosing(stream_windows(engine, job, pacing)) as events:
            async for ev in events:
                yield ev
        return
    async with aclosing(release_run(engine, job, pacing)) as events:  # closed early: the request stops
        async for ev in events:
            yield ev


async def stream_windows(engine: Engine, parent: EditJob, pacing: Pacing | None = None) -> AsyncIterator[object]:
    """Run `parent.windows` in order as one request: one index space, one `done` (see engine/decode/windows.py)."""
    rid = parent.request_id
    totals = {"tokens_out": 0, "prompt_tokens": 0, "cached_tokens": 0, "draft_accepted_tokens": 0,
              "draft_proposed_tokens": 0, "verify_passes": 0, "redirects": 0, "steered_tokens": 0}
    decode_s = 0.0
    first = None
    reason, last = "eos", None
    i = parent.window_at
    while i < len(parent.windows):
        w = parent.windows[i]
        parent.window_at = i
        if parent.stop.is_set():
            reason = "stop"
            break
        new = parent.take_redirect()  # asked for between two windows
        if new is not None:
            parent.instruction = new
            totals["redirects"] += 1
            yield RedirectEvent(rid, len(parent.output_ids), len(parent.output_text), new)
        if parent.instruction != parent.planned_for:  # redirected: the windows still to come are cut anew
            engine.replan(parent, i + 1 if (w.segments or w.output_ids) else i)
            w = parent.windows[i]
        if passes_through(engine, parent, i):
            if pacing is not None and not parent.output_ids:  # code passed on before the first token
                waiter = pacing(1)  # shows with it, at the paced TTFT (later ones follow the tokens before them)
                if waiter is not None:
                    await waiter
                if parent.stop.is_set():
                    reason = "stop"
                    break
            parent.output_text += w.code
            t_ms = round((time.monotonic() - parent.t_arrival) * 1e3, 3)
            yield TokenEvent(rid, len(parent.output_ids), w.code, 0, t_ms, t_ms)
            i += 1
            continue
        if w.segments:
            w.restart_with(parent.instruction)
        else:
            w.instruction = parent.instruction
        offset = len(parent.output_ids) - len(w.output_ids)
        chars = len(parent.output_text) - len(w.output_text)
        begin_window = getattr(pacing, "begin_window", None)
        if begin_window is not None:  # the emulated hardware prefills this window's own prompt
            begin_window(i, w, len(parent.output_ids))
        paced = None if pacing is None else (lambda n, off=offset: pacing(n + off))
        engine.unregister_id(rid)
        async with aclosing(release_run(engine, w, paced)) as events:
            async for ev in events:
                if isinstance(ev, TokenEvent):
                    ev.index += offset
                    parent.output_text += ev.text
                    yield ev
                elif isinstance(ev, RedirectEvent):
                    parent.instruction = ev.instruction
                    ev.index += offset
                    ev.chars += chars
                    yield ev
                elif isinstance(ev, NoticeEvent):  # the output checks are the whole target's, at the end
                    if ev.code not in ("unparsable", "not_the_edit") and (ev.code != "out_of_scope" or i == 0):
                        yield ev
                elif isinstance(ev, DoneEvent):
                    last = ev
        engine.register(parent)  # a stop between windows still finds the request
        parent.output_ids.extend(w.output_ids[len(parent.output_ids) - offset:])
        st = last.stats if last is not None else DoneStats()
        for k in totals:
            totals[k] += int(getattr(st, k) or 0)
        if first is None and st.ttft_ms is not None:
            first = st.ttft_ms
        if st.decode_tok_s:
            decode_s += max(st.tokens_out - 1, 0) / st.decode_tok_s
        reason = last.reason if last is not None else "error"
        if reason != "eos":
            break
        i += 1
    else:
        parent.window_at = len(parent.windows)
    engine.unregister_id(rid)
    stats = replace(last.stats) if last is not None else DoneStats()
    stats.update(**totals, windows=len(parent.windows), ttft_ms=first, tokens_total=len(parent.output_ids),
                 decode_tok_s=round(totals["tokens_out"] / decode_s, 1) if decode_s > 0 else 0.0)
    if reason == "eos":  # a window alone seldom parses: the parse check is the whole target's
        broken = whole_stopped_parsing(parent)
        stats.parses = not broken
        if stats.warning is not None and stats.warning.code in ("unparsable", "not_the_edit"):
            stats.warning = None  # the last window's verdict alone
        differs = None if broken else whole_review_notice(engine, parent)
        if broken and stats.warning is None:
            stats.warning = Problem("unparsable", UNPARSABLE)
            yield NoticeEvent(rid, "unparsable", UNPARSABLE)
        elif differs is not None and stats.warning is None:
            stats.warning = Problem("not_the_edit", differs)
            yield NoticeEvent(rid, "not_the_edit", differs)
    yield DoneEvent(rid, reason, stats, parent.output_text)
