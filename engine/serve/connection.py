"""One client's connection to the engine: authentication, dispatch, and what it owns.

Nothing a client sends can end its connection: every exception while handling a frame becomes an
`error` reply. Session and request ids are the client's own: they are namespaced per connection
before they reach the backend (``c7/doc1``), so another connection using the same ids reaches
nothing of this one's, and this connection's sessions are closed and its requests stopped when
it ends. Work that may take long (prefilling, measuring) runs in order on a per-connection
queue, so the reader keeps reading: a `stop` is acted on at once. Every reply echoes the `id` of
the message it answers (a generation's events carry its `request`).
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import itertools
import json
import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from wire import (HELLO_TIMEOUT_S, MAX_DOCUMENT_BYTES, MAX_ID_CHARS, PREAUTH_MAX_FRAME_BYTES, PROTOCOL_VERSION,
                  SCHEMAS, Measured, Pong, ProtocolError, Welcome, apply_edits, check_selection, parse_client_message,
                  selection_of, utf8_size)

from ..backends import Backend, GenerateRequest
from .limits import PartialDocument, RateLimiter, too_large_message
from ..decode.sampling import SamplingParams
from .server import FastSendConnection, ServerConfig, encode_message, loop_name
from ..decode.session import Document, RequestError

log = logging.getLogger("tessera.engine")

_numbers = itertools.count(1)
LARGE_FRAME = 64 * 1024  # characters: after a frame this large the reader yields to other connections


class Connection:
    def __init__(self, ws: ServerConnection, backend: Backend, config: ServerConfig):
        self.ws = ws
        self.backend = backend
        self.config = config
        self.limits = config.limits
        self.prefix = f"c{next(_numbers)}/"  # this connection's namespace of session and request ids
        self.sessions: dict[str, int] = {}  # open session → UTF-8 bytes of its document
        self.streams: dict[str, asyncio.Task] = {}  # request id → the task sending its events
        self.parts: dict[str, PartialDocument] = {}  # session → document still arriving in parts
        self.queue: asyncio.Queue = asyncio.Queue()  # (session, message id, coroutine) of prewarms and measures
        self.queued = 0  # items in `queue` plus the one being worked on

    # -- sending ----------------------------------------------------------------------------
    async def send(self, msg: dict) -> None:
        data = encode_message(msg)
        ws = self.ws
        if isinstance(ws, FastSendConnection) and ws.write_text_now(data.encode()):
            return
        try:
            await ws.send(data)
        except ConnectionClosed:
            pass

    async def error(self, code: str, message: str, request: str | None = None, **ids: str | None) -> None:
        await self.send({**ProtocolError(code, message, request).to_message(),
                         **{k: v for k, v in ids.items() if v is not None}})

    def _side(self, rid: str):
        """A request's side channel (activity frames), speaking the client's request id."""
        async def send(msg: dict) -> None:
            if "request" in msg:
                msg = {**msg, "request": rid}
            await self.send(msg)
        return send

    def _plain(self, text: str) -> str:
        """A backend's message in the client's terms (its ids without this connection's namespace)."""
        return text.replace(self.prefix, "")

    # -- life -------------------------------------------------------------------------------
    async def authenticate(self) -> bool:
        # Before hello a frame may hold a few kilobytes (set before the first frame is parsed).
        self.ws.protocol.max_message_size = PREAUTH_MAX_FRAME_BYTES
        try:
            raw = await asyncio.wait_for(self.ws.recv(), HELLO_TIMEOUT_S)
        except (asyncio.TimeoutError, TimeoutError):
            await self.error("unauthorized", "no hello received in time")
            await self.ws.close(1008, "hello expected")
            return False
        try:
            msg = parse_client_message(raw)
        except ProtocolError as exc:
            await self.send(exc.to_message())
            await self.ws.close(1008, "hello expected")
            return False
        if msg["type"] != "hello" or not hmac.compare_digest(msg["token"].encode(), self.config.token.encode()):
            await self.error("unauthorized", "the first message must be hello with the engine's token")
            await self.ws.close(1008, "unauthorized")
            return False
        if msg.get("protocol", PROTOCOL_VERSION) != PROTOCOL_VERSION:
            await self.error("bad_protocol", f"this engine speaks protocol {PROTOCOL_VERSION}")
            await self.ws.close(1008, "protocol version")
            return False
        # Authenticated: frames may now be as large as configured (read when the next frame's
        # header is parsed, so a client that waits for `welcome` gets the larger limit).
        self.ws.protocol.max_message_size = self.config.max_message_bytes
        from .pacing import emulate_models, profile_names  # late import: the wafer package is optional here

        await self.send(Welcome(PROTOCOL_VERSION, self.backend.describe(), profile_names(), emulate_models(),
                                loop_name(), msg.get("id")).to_message())
        return True

    async def serve(self) -> None:
        if not await self.authenticate():
            return
        worker = asyncio.create_task(self._work_queue())
        if hasattr(self.ws, "on_peer_close"):  # the peer said goodbye: stop its requests at once
            self.ws.on_peer_close = self._stop_all
        rate = RateLimiter(self.limits.messages_per_s, self.limits.message_burst)
        try:
            async for raw in self.ws:
                await rate.wait()
                await self.handle(raw)
                if len(raw) > LARGE_FRAME:  # let other connections in between the parts of a large document
                    await asyncio.sleep(0)
        finally:
            worker.cancel()
            self._stop_all()
            for task in list(self.streams.values()):
                task.cancel()
            await asyncio.gather(worker, *self.streams.values(), return_exceptions=True)
            for sid in list(self.sessions):
                self._forget(sid)

    def _stop_all(self) -> None:
        for rid in list(self.streams):
            self.backend.stop(self.prefix + rid)

    async def handle(self, raw) -> None:
        """Act on one frame; whatever goes wrong, the client gets an `error` and the connection stays."""
        try:
            await self.dispatch(parse_client_message(raw))
        except (ProtocolError, RequestError) as exc:
            await self._refuse(raw, exc.code, self._plain(str(exc)), getattr(exc, "request", None))
        except Exception as exc:  # a fault of the engine's, not the client's: report it, keep serving
            log.exception("error while handling a %s frame", _kind_of(raw))
            await self._refuse(raw, "engine_error", self._plain(f"{type(exc).__name__}: {exc}"), None)

    async def _refuse(self, raw, code: str, message: str, request: str | None) -> None:
        reply = ProtocolError(code, message, request).to_message()
        reply.update(_ids_of(raw, reply))
        await self.send(reply)

    async def dispatch(self, msg: dict) -> None:
        kind = msg["type"]
        backend, ns = self.backend, self.prefix
        if kind == "ping":
            await self.send(Pong(msg.get("id")).to_message())
        elif kind == "hello":
            raise ProtocolError("bad_request", "already authenticated")
        elif kind in ("open", "update"):
            self._begin_document(msg)
        elif kind == "append":
            self._append(msg)
        elif kind == "close":
            self.parts.pop(msg["session"], None)
            self._known(msg["session"])
            self._forget(msg["session"])
        elif kind == "measure":
            self._known(msg["session"])  # an unknown session is refused now, not after the queue
            self._enqueue(msg["session"], msg.get("id"), self._measure(msg))
        elif kind == "generate":
            self._generate(msg)
        elif kind == "stop":
            # Stopping a request that already ended is not an error (the user pressed Esc just as
            # it finished); only ids this connection never used are.
            rid = msg["request"]
            if not backend.stop(ns + rid) and rid not in self.streams and not backend.knows(ns + rid):
                raise RequestError("unknown_request", f"request {rid!r} is not running")
        elif kind == "redirect":
            rid = msg["request"]
            restart = backend.redirect(ns + rid, msg["instruction"])
            if restart is not None:
                self._start_stream(rid, restart)

    # -- documents --------------------------------------------------------------------------
    def _known(self, sid: str) -> None:
        if sid not in self.sessions:
            raise RequestError("unknown_session", f"no open session {sid!r}; send 'open' first")

    def _forget(self, sid: str) -> None:
        self.sessions.pop(sid, None)
        try:
            self.backend.close_session(self.prefix + sid)
        except RequestError:
            pass

    def _begin_document(self, msg: dict) -> None:
        sid = msg["session"]
        self.parts.pop(sid, None)  # a new open/update replaces a document still arriving
        if msg["type"] == "open":
            if sid not in self.sessions and len(self.sessions) >= self.limits.max_sessions:
                raise RequestError("too_many_sessions",
                                   f"this connection has {self.limits.max_sessions} open sessions; close one first")
            first = msg["document"]["text"]
        else:
            self._known(sid)
            first = msg.get("text")
        n = msg.get("parts", 1)
        if n > 1 and first is not None:
            partial = PartialDocument(sid, msg, n)
            self.parts[sid] = partial
            partial.add(first)
            return
        self._complete_document(msg, first)

    def _append(self, msg: dict) -> None:
        sid = msg["session"]
        partial = self.parts.get(sid)
        if partial is None:
            raise ProtocolError("bad_request", f"no document in parts is arriving for session {sid!r}")
        try:
            partial.add(msg["text"])
        finally:
            if partial.finished:
                del self.parts[sid]
        if partial.finished and not partial.refused:
            self._complete_document(partial.message, partial.text())

    def _complete_document(self, msg: dict, text: str | None) -> None:
        """Apply a whole open/update now (a later generate sees it) and queue its prefill."""
        sid, backend = msg["session"], self.backend
        size = utf8_size(text) if text is not None else None
        if size is not None:
            if size > MAX_DOCUMENT_BYTES:
                raise ProtocolError("document_too_large", too_large_message(sid, size))
            held = sum(b for s, b in self.sessions.items() if s != sid)
            if held + size > self.limits.max_connection_bytes:
                raise RequestError("too_many_bytes", f"this connection's documents would hold {held + size} "
                                   f"bytes (the limit is {self.limits.max_connection_bytes}); close a session first")
        if msg["type"] == "open":
            doc = msg["document"]
            backend.open(self.prefix + sid, Document(text, doc.get("path"), doc.get("language") or "python"))
        else:
            new_text = text if text is not None else backend.document(self.prefix + sid).text
            if "edits" in msg:
                new_text = apply_edits(new_text, msg["edits"])
            sel = selection_of(msg)
            if sel is not None:
                check_selection(sel, len(new_text))
            backend.update(self.prefix + sid, new_text, sel)
            size = utf8_size(new_text) if size is None else size
        self.sessions[sid] = size
        self._enqueue(sid, msg.get("id"), self._prewarm(sid, msg.get("id")))

    def _enqueue(self, sid: str, mid: str | None, work) -> None:
        if self.queued >= self.limits.max_queued:
            work.close()
            raise RequestError("busy", f"{self.limits.max_queued} prewarms and measures are already waiting "
                               "on this connection; wait for their replies")
        self.queued += 1
        self.queue.put_nowait((sid, mid, work))

    async def _work_queue(self) -> None:
        """Run queued document work in order; each item's failure is an `error` for its session."""
        while True:
            sid, mid, work = await self.queue.get()
            try:
                await work
            except (ProtocolError, RequestError) as exc:
                await self.error(exc.code, self._plain(str(exc)), session=sid, id=mid)
            except Exception as exc:
                log.exception("error while preparing session %r", sid)
                await self.error("engine_error", self._plain(f"{type(exc).__name__}: {exc}"), session=sid, id=mid)
            finally:
                self.queued -= 1

    async def _prewarm(self, sid: str, mid: str | None) -> None:
        ready = await self.backend.prewarm(self.prefix + sid)
        ready.session, ready.id = sid, mid
        await self.send(ready.to_message())

    async def _measure(self, msg: dict) -> None:
        sid = msg["session"]
        measured = self.backend.measure(self.prefix + sid, msg["instruction"], selection_of(msg))
        if inspect.isawaitable(measured):
            measured = await measured
        if isinstance(measured, dict):
            measured = Measured(**{k: v for k, v in measured.items() if k != "type"})
        measured.session, measured.id = sid, msg.get("id")
        await self.send(measured.to_message())

    # -- requests ---------------------------------------------------------------------------
    def _generate(self, msg: dict) -> None:
        rid = msg["request"]
        if rid in self.streams:
            raise RequestError("duplicate_request", f"request {rid!r} is already streaming")
        if len(self.streams) >= self.limits.max_streams:
            raise RequestError("too_many_requests",
                               f"{self.limits.max_streams} requests are already streaming on this connection")
        self._known(msg["session"])
        emulate = msg.get("emulate")
        if emulate is not None:
            from .pacing import emulate_allowed, emulate_names

            if not emulate_allowed(emulate):
                raise ProtocolError("bad_request", f"unknown model to emulate {emulate!r}; "
                                    f"known: {', '.join(emulate_names())}", rid)
        sampling = SamplingParams(float(msg.get("temperature") or 0.0), float(msg.get("top_p") or 1.0),
                                  msg.get("seed"))
        events = self.backend.generate(GenerateRequest(
            self.prefix + msg["session"], self.prefix + rid, msg["instruction"], selection_of(msg),
            msg.get("max_tokens"), sampling, msg.get("speculate", True), profile=msg.get("profile"),
            emulate=emulate, side=self._side(rid), whole=bool(msg.get("whole", False))))
        self._start_stream(rid, events)

    def _start_stream(self, rid: str, events) -> None:
        task = asyncio.create_task(self._run_stream(rid, events))
        self.streams[rid] = task

        def ended(t: asyncio.Task) -> None:
            if self.streams.get(rid) is t:  # a restarted request may own the id by now
                del self.streams[rid]

        task.add_done_callback(ended)

    async def _run_stream(self, rid: str, events) -> None:
        try:
            async for ev in events:
                msg = ev.to_message()
                msg["request"] = rid
                await self.send(msg)
        except RequestError as exc:
            await self.error(exc.code, self._plain(str(exc)), rid)
        except Exception as exc:  # the stream's own failure: this request ends with an error, others go on
            log.exception("stream %r failed", rid)
            await self.error("engine_error", self._plain(f"{type(exc).__name__}: {exc}"), rid)


def _kind_of(raw) -> str:
    kind = _ids_of(raw, {}, ("type",)).get("type")
    return kind if kind in SCHEMAS else "malformed"


def _ids_of(raw, reply: dict, keys=("request", "session", "id")) -> dict:
    """The request, session and message ids of a refused frame, so the client can match the error."""
    try:
        msg = json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        return {}
    if not isinstance(msg, dict):
        return {}
    out = {}
    for k in keys:
        v = msg.get(k)
        if isinstance(v, str) and k not in reply and 0 < len(v) <= MAX_ID_CHARS:
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                continue
            out[k] = v
    return out
