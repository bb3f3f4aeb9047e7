"""A remote OpenAI-compatible server behind the backend seam: sessions, stop, redirect, measurements.

The transport (Chat Completions over HTTP SSE, or the Responses WebSocket mode) only has to turn
one chat edit into a stream of :class:`Upstream` items; everything the protocol promises is here:

- each request runs the chat edit prompt (engine/model/chat_edit.py); the answer's fences and prose are
  stripped while it streams, so token events carry code only;
- a ``stop`` cancels the task reading the upstream at once, which closes the HTTP stream or the
  socket: the server stops computing;
- a ``redirect`` cancels the same way, then asks again with the new instruction and the partial
  output as context, and the continuation is appended to what was shown;
- ``done`` carries the same measurements as the local engine (TTFT, tokens, tok/s; prefill,
  cached and predicted-output tokens where the server reports them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ..model.chat_edit import ChatEdit, EchoFilter, FenceFilter, build_chat_edit
from .endpoints import Endpoint
from ..decode.events import DoneEvent, ReadyEvent, RedirectEvent, TokenEvent
from ..decode.sampling import SamplingParams
from ..decode.session import Document, RequestError

CHARS_PER_TOKEN = 4  # rough size of a token for the context meter (the tokenizer is the server's)
KEPT_JOBS = 256  # finished requests remembered for a late stop or a redirect


class UpstreamError(Exception):
    """The server refused or broke off a request; `code` goes into the error `done`."""

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass
class Upstream:
    kind: str  # "delta" (text), "usage" (final figures), "end" (finish reason)
    text: str = ""  # the delta's text
    usage: dict = field(default_factory=dict)  # prompt_tokens, completion_tokens, accepted/rejected, prefill_ms
    finish: str = ""  # the server's finish reason (stop / length / ...)


@dataclass
class RemoteJob:
    request: str  # request id
    session: str  # session id
    instruction: str  # current instruction (changes on redirect)
    document: Document  # the document as it was when the request started
    selection: tuple[int, int]  # character offsets of the code to edit, end exclusive
    max_tokens: int | None  # output budget in tokens; None = the server's default
    sampling: SamplingParams  # temperature / top_p / seed
    speculate: bool  # send the original code as a predicted output
    prediction: str | None = None  # predicted output given by the client instead of the selection
    output_text: str = ""  # every character shown so far (all segments)
    tokens: int = 0  # upstream tokens consumed so far, all segments
    t_arrival: float = field(default_factory=time.monotonic)  # monotonic seconds when the run started
    queue: asyncio.Queue | None = None  # control items (stop / redirect) and upstream items of the run
    pump: asyncio.Task | None = None  # the task reading the upstream (cancelled on stop / redirect)
    control: tuple | None = None  # ("stop",) or ("redirect", instruction): acted on before any queued item
    running: bool = False  # a run is streaming now


class RemoteBackend:
    """Sessions and edit requests relayed to one OpenAI-compatible server; subclasses add a transport.

    `transport` names what is in use (``http`` or ``websocket``); the app's status line shows it.
    """

    transport = "http"

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        self.sessions: dict[str, Document] = {}
        self.jobs: dict[str, RemoteJob] = {}  # every request seen, by id (for late stops and redirects)

    # -- what the subclass provides -----------------------------------------------------------
    def upstream(self, job: RemoteJob, edit: ChatEdit) -> AsyncIterator[Upstream]:
        raise NotImplementedError

    # -- models -------------------------------------------------------------------------------
    def models(self):
        from . import ModelInfo

        return [ModelInfo(self.endpoint.model, self.endpoint.context_length, owned_by="remote", edit_only=False)]

    def describe(self) -> dict:
        return {"name": self.endpoint.model, "context_length": self.endpoint.context_length, "skills": [],
                "backend": "remote", "transport": self.transport, "endpoint": self.endpoint.label}

    # -- sessions -----------------------------------------------------------------------------
    def open(self, session: str, document: Document) -> None:
        self.sessions[session] = document

    def document(self, session: str) -> Document:
        try:
            return self.sessions[session]
        except KeyError:
            raise RequestError("unknown_session", f"no open session {session!r}; send 'open' first") from None

    def update(self, session: str, text: str, selection: tuple[int, int] | None) -> None:
        doc = self.document(session)
        doc.text = text
        doc.selection = selection

    def close_session(self, session: str) -> None:
        self.sessions.pop(session, None)

    async def prewarm(self, session: str) -> ReadyEvent:
        doc = self.document(session)
        return ReadyEvent(session, len(doc.text) // CHARS_PER_TOKEN, 0.0, self.endpoint.context_length)

    def measure(self, session: str, instruction: str, selection: tuple[int, int] | None) -> dict:
        text = self.document(session).text
        start, end = _check_selection(selection, len(text))
        edit = build_chat_edit(instruction, text, (start, end))
        n = sum(len(m["content"]) for m in edit.messages) // CHARS_PER_TOKEN
        source = (end - start) // CHARS_PER_TOKEN
        return {"type": "measured", "session": session, "prompt_tokens": n, "source_tokens": source,
                "context_length": self.endpoint.context_length, "estimated": True,
                "fits": n + source < self.endpoint.context_length}

    # -- requests -----------------------------------------------------------------------------
    def generate(self, request) -> AsyncIterator:
        doc = self.document(request.session)
        old = self.jobs.get(request.request)
        if old is not None and old.running:
            raise RequestError("duplicate_request", f"request {request.request!r} is already running")
        if not request.instruction.strip():
            raise RequestError("bad_request", "the instruction is empty")
        selection = _check_selection(request.selection, len(doc.text))
        job = RemoteJob(request.request, request.session, request.instruction.strip(),
                        Document(doc.text, doc.path, doc.language), selection, request.max_tokens,
                        request.sampling, request.speculate, getattr(request, "prediction", None))
        self.jobs[job.request] = job
        job.running = True  # from the call on: a second generate with this id is a duplicate
        if len(self.jobs) > KEPT_JOBS:  # forget the oldest finished requests (late stops, redirects)
            for rid in [r for r, j in self.jobs.items() if not j.running][: len(self.jobs) - KEPT_JOBS]:
                del self.jobs[rid]
        return self._run(job)

    def stop(self, request: str) -> bool:
        job = self.jobs.get(request)
        if job is None or not job.running:
            return False
        self._interrupt(job, ("stop",))
        return True

    def knows(self, request: str) -> bool:
        return request in self.jobs

    def redirect(self, request: str, instruction: str) -> AsyncIterator | None:
        if not instruction.strip():
            raise RequestError("bad_request", "the new instruction is empty")
        job = self.jobs.get(request)
        if job is None:
            raise RequestError("unknown_request", f"no request {request!r} to redirect")
        if job.running:
            self._interrupt(job, ("redirect", instruction.strip()))
            return None
        job.instruction = instruction.strip()
        job.t_arrival = time.monotonic()
        job.running = True
        return self._run(job)

    def close(self) -> None:
        for job in self.jobs.values():
            if job.running:
                self._interrupt(job, ("stop",))

    async def aclose(self) -> None:
        """Close the transport's connections (the HTTP client, the socket)."""
        self.close()

    # -- the run ------------------------------------------------------------------------------
    def _interrupt(self, job: RemoteJob, item: tuple) -> None:
        """Cancel the upstream read now (closing the stream or socket), then tell the run why."""
        job.control = item
        if job.pump is not None:
            job.pump.cancel()
        if job.queue is not None:
            job.queue.put_nowait(("wake",))

    async def _pump(self, job: RemoteJob, edit: ChatEdit, queue: asyncio.Queue) -> None:
        try:
            async for item in self.upstream(job, edit):
                queue.put_nowait(item)
            queue.put_nowait(("finished",))
        except asyncio.CancelledError:
            raise
        except UpstreamError as exc:
            queue.put_nowait(("error", exc.code, str(exc)))
        except Exception as exc:  # a broken connection, a malformed event: an error `done`, never a hang
            queue.put_nowait(("error", "upstream_error", f"{type(exc).__name__}: {exc}"))

    async def _run(self, job: RemoteJob) -> AsyncIterator:
        t0 = job.t_arrival
        ms = lambda: round((time.monotonic() - t0) * 1e3, 3)  # noqa: E731
        start_tokens = job.tokens
        stats: dict = {"ttft_ms": None, "upstream_ttft_ms": None, "prefill_ms": None, "prompt_tokens": None,
                       "cached_tokens": None, "redirects": 0, "draft_accepted_tokens": 0, "draft_proposed_tokens": 0,
                       "backend": "remote", "transport": self.transport, "context_tokens": self.endpoint.context_length}
        t_first = t_last = None  # first and last text shown
        t_up_first = t_up_last = None  # first and last delta from the server (its decode rate)
        reason = "eos"
        usage: dict = {}
        try:
            while True:
                edit = build_chat_edit(job.instruction, job.document.text, job.selection, job.document.path,
                                       job.document.language, partial=job.output_text)
                if job.prediction is not None and not job.output_text:
                    edit.prediction = job.prediction
                if not job.speculate:
                    edit.prediction = ""
                code = job.document.text[job.selection[0]:job.selection[1]]
                fence = FenceFilter(keep_final_newline=edit.keep_final_newline,
                                    known_lines=frozenset(line.strip() for line in code.splitlines()))
                echo = EchoFilter(job.output_text) if job.output_text else None
                job.queue = queue = asyncio.Queue()
                job.pump = asyncio.create_task(self._pump(job, edit, queue))
                if job.control is not None:  # a stop that came between two segments
                    queue.put_nowait(("wake",))
                pending = 0  # upstream tokens not yet carried by a token event
                redirect_to = None
                while True:
                    item = await queue.get()
                    if job.control is not None:  # deltas still queued were read before the stop: dropped
                        item, job.control = job.control, None
                    if isinstance(item, Upstream):
                        text = ""
                        if item.kind == "delta":
                            now = time.monotonic()
                            if stats["upstream_ttft_ms"] is None:
                                stats["upstream_ttft_ms"] = round((now - t0) * 1e3, 3)
                                t_up_first = now
                            t_up_last = now
                            pending += 1
                            job.tokens += 1
                            text = fence.feed(item.text)
                        elif item.kind == "usage":
                            usage.update(item.usage)
                            continue
                        elif item.kind == "end":
                            reason = "length" if item.finish == "length" else "eos"
                            continue
                        if echo is not None and text:
                            text = echo.feed(text)
                        if text:
                            t_last = time.monotonic()
                            if t_first is None:
                                t_first = t_last
                                stats["ttft_ms"] = round((t_first - t0) * 1e3, 3)
                            t = round((t_last - t0) * 1e3, 3)
                            yield TokenEvent(job.request, job.tokens - pending, text, max(pending, 1), t, t)
                            job.output_text += text
                            pending = 0
                        continue
                    if item[0] == "finished":
                        tail = fence.finish()
                        if echo is not None:
                            tail = echo.feed(tail) + echo.finish() if tail else echo.finish()
                        if tail:
                            t_last = time.monotonic()
                            if t_first is None:  # an answer without a fence shows at its end
                                t_first = t_last
                                stats["ttft_ms"] = round((t_first - t0) * 1e3, 3)
                            t = round((t_last - t0) * 1e3, 3)
                            yield TokenEvent(job.request, job.tokens - pending, tail, max(pending, 1), t, t)
                            job.output_text += tail
                        break
                    if item[0] == "stop":
                        reason = "stop"
                        break
                    if item[0] == "redirect":
                        redirect_to = item[1]
                        break
                    if item[0] == "error":
                        reason = "error"
                        stats["error"] = {"code": item[1], "message": item[2]}
                        break
                if redirect_to is None and job.control is not None and job.control[0] == "redirect":
                    redirect_to, job.control = job.control[1], None  # came after the answer's last token
                if redirect_to is None:
                    break
                job.instruction = redirect_to
                stats["redirects"] += 1
                await _settle(job.pump)
                yield RedirectEvent(job.request, job.tokens, len(job.output_text), redirect_to)
        finally:
            if job.pump is not None and not job.pump.done():
                job.pump.cancel()
            await _settle(job.pump)
            job.running = False
            job.queue = job.pump = None
        n = usage.get("completion_tokens") if stats["redirects"] == 0 and usage.get("completion_tokens") else None
        n = n if n is not None else job.tokens - start_tokens
        # The server's decode rate: its deltas' span (text held back by the filter does not skew it).
        decode_s = (t_up_last - t_up_first) if (t_up_first and t_up_last and n > 1) else 0.0
        accepted = int(usage.get("accepted_prediction_tokens") or 0)
        rejected = int(usage.get("rejected_prediction_tokens") or 0)
        stats.update(
            tokens_out=n, tokens_total=job.tokens, decode_tok_s=round((n - 1) / decode_s, 1) if decode_s > 0 else 0.0,
            e2e_tok_s=round(n / (t_last - t0), 1) if t_last and n else 0.0, total_ms=ms(),
            prompt_tokens=usage.get("prompt_tokens"), cached_tokens=usage.get("cached_tokens"),
            prefill_ms=usage.get("prefill_ms"), draft_accepted_tokens=accepted,
            draft_proposed_tokens=accepted + rejected,
            draft_acceptance_ratio=round(accepted / (accepted + rejected), 4) if accepted + rejected else 0.0,
        )
        yield DoneEvent(job.request, reason, stats, job.output_text)


async def _settle(task: asyncio.Task | None) -> None:
    """Wait for a cancelled pump to finish closing its stream or socket."""
    if task is None:
        return
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():  # the waiting coroutine itself was cancelled
            raise
    except Exception:
        pass


def _check_selection(selection: tuple[int, int] | None, n: int) -> tuple[int, int]:
    start, end = selection if selection is not None else (0, n)
    if not (0 <= start <= end <= n):
        raise RequestError("bad_selection", f"selection {start}:{end} is outside the document (0:{n})")
    return start, end
