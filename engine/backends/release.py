"""The release of one run's events to the client, on the event loop: merged, paced, stop exact.

The worker thread (engine/decode/loop.py) posts each token into a `Mailbox` as it computes it; this
side hands the events on. Unpaced bursts merge into one event (count > 1). With `pacing(n)` (the
wafer emulation's pacer, engine/serve/pacing.py) each token waits for its emulated time, and a
redirect continues from exactly the tokens shown, however far the computation ran ahead. A stop
read on the event loop ends the release at once: tokens computed but not yet shown are dropped
from the output, so `done` describes exactly what the client received.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

from ..decode.documents import RequestError
from ..decode.events import DoneEvent, TokenEvent
from ..decode.job import EditJob
from ..decode.mailbox import Mailbox
from ..decode.session import Engine

# pacing(n) → awaitable that releases the n-th token, or None. A pacing that models each prompt the
# engine runs also has begin_window(index, window job, tokens before it) (engine/serve/pacing.py).
Pacing = Callable[[int], "asyncio.Future | None"]


async def release_run(engine: Engine, job: EditJob, pacing: Pacing | None = None) -> AsyncIterator[object]:
    """Run `job` on the worker thread and yield its events as they come.

    Tokens that pile up while the consumer is busy are merged into one event (count > 1).
    `pacing(n)` may return an awaitable that delays the release of the n-th token (the wafer
    emulation's pacer); the worker never waits for it.

    Stop is exact: once the engine has read a stop (``Engine.stop``, on the event loop), no
    further token of the request is yielded; tokens computed but not yet yielded are dropped
    from the output, so `done` describes exactly what the client received.
    """
    key = job.request_id
    other = engine.registered(key)
    if other is not None and other is not job:
        raise RequestError("duplicate_request", f"request {job.request_id!r} is already running")
    engine.register(job)
    mailbox = Mailbox(asyncio.get_running_loop())
    notice = engine.scope_notice(job)
    if notice is not None:
        yield notice
    seg_start = len(job.output_ids)  # output index where this run's tokens begin
    released_end, released_chars = seg_start, len(job.output_text)  # what the client has seen
    carried = 0  # tokens of earlier runs in this stream whose `done` was folded into a redirect
    future = engine.run(job, mailbox)
    pending: list = []
    ended = False
    try:
        while True:
            if not pending:
                batch = await mailbox.take()
                # Paced tokens go out one by one at their emulated times; unpaced bursts merge.
                pending = batch if pacing is not None else _merge_tokens(batch)
            ev = pending.pop(0)
            if isinstance(ev, TokenEvent):
                if job.stop.is_set():
                    continue  # the stop was read before this token went out: never sent
                if pacing is not None and job.has_redirect():
                    # Steering a paced stream: the engine may have computed (or finished)
                    # far beyond what the pacer has shown. The new instruction continues
                    # from exactly what the user saw, as a mid-stream redirect would.
                    carried += released_end - seg_start
                    future = await _steer_at_shown(engine, job, future, mailbox, released_end, released_chars)
                    seg_start, pending = released_end, []
                    continue
                if pacing is not None and ev.count > 0:  # count 0: closing text, already paced
                    waiter = pacing(ev.index + ev.count)
                    if waiter is not None:
                        await waiter
                    if job.stop.is_set():
                        continue  # stopped while held back: the user never sees these tokens
                ev.t_emit_ms = round((time.monotonic() - job.t_arrival) * 1e3, 3)
                released_end = max(released_end, ev.index + ev.count)
                released_chars += len(ev.text)
                yield ev
                continue
            if not isinstance(ev, DoneEvent):
                yield ev
                continue
            # The worker posts `done` as its last act on the job (only a wake-up follows), so
            # the client may see it without waiting for the worker's return to reach the loop.
            stopped = job.stop.is_set()
            if stopped and released_end < len(job.output_ids):
                _truncate_to_released(job, ev, seg_start, released_end, released_chars)
            if stopped and job.t_stop is not None:
                ev.stats.stop_ms = round((job.t_stop - job.t_arrival) * 1e3, 3)
            ev.stats.tokens_out += carried
            redirect = job.take_redirect()
            if redirect is not None and not stopped and ev.reason != "error":
                # A redirect read while the request was running, which ended before taking
                # it: the request continues (`redirected`, more tokens) under one final `done`.
                await asyncio.shield(future)
                job.request_redirect(redirect)
                carried = ev.stats.tokens_out
                future = engine.run(job, mailbox)
                continue
            if redirect is not None:
                # Stopped (or failed), then redirected: this run ends here and the request
                # continues after its `done`, as a redirect of a finished request does.
                job.restart_with(redirect)
                yield ev
                await asyncio.shield(future)
                seg_start = len(job.output_ids)
                released_end, released_chars, carried = seg_start, len(job.output_text), 0
                future = engine.run(job, mailbox)
                continue
            engine.unregister(job)  # from here a redirect restarts the request in a new stream
            ended = True
            yield ev
            break
    finally:
        if not future.done():
            engine.interrupt(job)
        try:
            await asyncio.shield(future)
        except Exception:  # reported to the client as an error `done` by worker_failed
            pass
        if not ended:  # the consumer went away: a normal end released the job before its `done`
            engine.unregister(job)


async def _steer_at_shown(engine: Engine, job: EditJob, future: asyncio.Future, mailbox: Mailbox,
                          shown_tokens: int, shown_chars: int) -> asyncio.Future:
    """End the running computation, cut the output to what was shown, and run the redirect.

    Events the old run still posts are dropped: the new run posts into a drained mailbox
    after the old one has returned. A user's stop that lands meanwhile is kept.
    """
    redirect = job.take_redirect()
    engine.interrupt(job)
    try:
        await asyncio.shield(future)
    except Exception:  # an error of the run being replaced is moot
        pass
    mailbox.drain()
    job.cut_output(shown_tokens, shown_chars)
    if job.t_stop is None:  # not a real stop: only ours, to end the computation
        job.stop.clear()
    job.request_redirect(redirect)
    return engine.run(job, mailbox)


def _truncate_to_released(job: EditJob, done: DoneEvent, seg_start: int, end: int, chars: int) -> None:
    """A paced request stopped with tokens computed but not yet shown: the output is what was shown.

    A later redirect then continues from exactly what the user saw.
    """
    computed = len(job.output_ids) - seg_start
    job.cut_output(end, chars)
    done.reason = "stop"
    done.text = job.output_text
    done.stats.update(tokens_out=end - seg_start, tokens_total=len(job.output_ids), tokens_computed=computed)


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
