"""The app's side of the engine: start the engine process, keep one WebSocket to it.

No Qt here. `EngineProcess` (in `process`, re-exported here) owns the child process; what the
engine says of itself in `welcome` is `EngineInfo` (in `welcome`, re-exported here);
`EngineClient` owns one persistent connection, sends `hello` first and dispatches the engine's
messages by the id they echo (wire/): a generation's events by their `request` into its
`RequestStream` (an async iterator), a direct reply (`ready`, `measured`, `pong`, `error`) by its
`id` to the future that awaits it, everything else to callbacks. When the connection drops
mid-stream, every open stream receives what already arrived, then an `error` event with code
`engine_lost`, so the caller can tell the user without losing anything.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from app.core.link.delta import edit_between
from app.core.link.process import (  # noqa: F401 (re-exported: the app's one import for the engine)
    ENGINE_LOST, TOKEN_ENV, EngineError, EngineProcess, EngineStartError, default_token_file,
    read_token,
)
from app.core.link.welcome import EngineInfo, parse_welcome  # noqa: F401 (re-exported likewise)
from wire import (MAX_PART_BYTES, MAX_REPLY_BYTES, PROTOCOL_VERSION, TERMINAL_REASONS, Append, Close, Document,
                  Generate, Hello, Measure, Message, Open, Ping, Redirect, Selection, Stop, Update, utf8_size)
from wire import document_parts as _document_parts

CLIENT_NAME = "tessera-app"


@dataclass
class RequestStream:
    """The engine's messages for one request, in order, as an async iterator of dicts.

    Ends after `done` with a terminal reason, or after an `error` for the request (including the
    `engine_lost` error the client adds when the connection drops).
    """

    request_id: str  # client-chosen id, unique per connection
    sent_at_s: float  # time.perf_counter() once `generate` has gone out on the socket (before: when it was made)
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    finished: bool = False  # a terminal message was queued; nothing follows it
    stop_sent: bool = False  # a `stop` went out; the engine may answer it after the end

    def put(self, msg: dict[str, Any]) -> None:
        if self.finished:
            return
        if msg.get("type") == "error" and msg.get("code") == "unknown_request" and self.stop_sent:
            return  # the stop crossed the request's own end: nothing was lost
        self.queue.put_nowait(msg)
        kind = msg.get("type")
        if kind == "error" or (kind == "done" and msg.get("reason") in TERMINAL_REASONS):
            self.finished = True

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            msg = await self.queue.get()
            yield msg
            kind = msg.get("type")
            if kind == "error" or (kind == "done" and msg.get("reason") in TERMINAL_REASONS):
                return


class EngineClient:
    """One persistent WebSocket to an engine; see the module docstring.

    Callbacks (all optional, called on the event loop): `on_ready(msg)` for every `ready`,
    `on_message(msg)` for messages nothing waits for (e.g. `error` without an id of ours),
    `on_closed(reason)` once when the connection is gone.
    """

    def __init__(
        self,
        on_ready: Callable[[dict[str, Any]], None] | None = None,
        on_message: Callable[[dict[str, Any]], None] | None = None,
        on_closed: Callable[[str], None] | None = None,
    ) -> None:
        self.on_ready = on_ready
        self.on_message = on_message
        self.on_closed = on_closed
        self.info: EngineInfo | None = None
        self.closed_reason: str | None = None  # set once the connection is gone
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._streams: dict[str, RequestStream] = {}
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}  # message id → its reply, awaited
        self._ids = itertools.count(1)
        # Ids unique across clients: two windows may share one engine.
        self.client_id = secrets.token_hex(4)
        self._closing = False

    @property
    def connected(self) -> bool:
        return self._ws is not None and self.closed_reason is None

    async def connect(self, url: str, token: str, timeout_s: float = 10.0) -> EngineInfo:
        """Open the connection, say `hello`, and wait for `welcome`."""
        try:
            self._ws = await asyncio.wait_for(
                connect(url, max_size=MAX_REPLY_BYTES, open_timeout=timeout_s, compression=None),
                timeout_s,
            )
        except (OSError, InvalidHandshake, InvalidURI, asyncio.TimeoutError) as exc:
            raise EngineError("connect_failed", f"Cannot reach the engine at {url}: {exc}") from exc
        hello = Hello(token, protocol=PROTOCOL_VERSION, client=CLIENT_NAME)
        try:
            await self._ws.send(json.dumps(hello.to_message()))
            raw = await asyncio.wait_for(self._ws.recv(), timeout_s)
        except (ConnectionClosed, asyncio.TimeoutError) as exc:
            await self._ws.close()
            raise EngineError("handshake_failed", f"The engine did not answer hello: {exc}") from exc
        msg = _decode(raw)
        if msg.get("type") != "welcome":
            await self._ws.close()
            raise EngineError(
                str(msg.get("code", "handshake_failed")),
                str(msg.get("message", f"unexpected reply to hello: {msg.get('type')!r}")),
            )
        self.info = parse_welcome(msg)
        self._reader = asyncio.create_task(self._read_loop(), name="engine-reader")
        return self.info

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    # -- sending ------------------------------------------------------------------------------

    async def send(self, msg: dict[str, Any] | Message) -> None:
        if self._ws is None or self.closed_reason is not None:
            raise EngineError(ENGINE_LOST, self.closed_reason or "not connected to an engine")
        if isinstance(msg, Message):
            msg = msg.to_message()
        try:
            await self._ws.send(json.dumps(msg))
        except ConnectionClosed as exc:
            raise EngineError(ENGINE_LOST, f"The engine connection closed: {exc}") from exc

    def new_request_id(self) -> str:
        return f"{self.client_id}-r{next(self._ids)}"

    def _new_message_id(self) -> str:
        return f"{self.client_id}-m{next(self._ids)}"

    async def open_document(
        self, session: str, text: str, language: str, path: str | None = None,
        profile: str | None = None, timeout_s: float = 120.0,
    ) -> dict[str, Any]:
        """Send `open` (in parts if large; the engine prefills the document) and return its `ready`."""
        parts = document_parts(text)
        msg = Open(session, Document(parts[0], path or None, language), profile=profile or None)
        return await self._reply_of(await self._request(msg, parts[1:]), msg, timeout_s)

    async def update_document(self, session: str, text: str, timeout_s: float = 120.0,
                              selection: tuple[int, int] | None = None, since: str | None = None) -> dict[str, Any]:
        """Send the editor's new text (`update`, in parts if large) and return the engine's `ready`.

        With `selection`, the engine prefills that code too (the edit about to be asked for); with
        `since`, only what changed since that text goes (see `send_update`)."""
        msg, future = await self.send_update(session, text, selection, since)
        return await self._reply_of(future, msg, timeout_s)

    async def send_update(self, session: str, text: str, selection: tuple[int, int] | None = None,
                          since: str | None = None) -> tuple[Update, asyncio.Future[dict[str, Any]]]:
        """Send `update` (all its parts) and return at once with the future of its `ready`.

        With `since`, the text the engine holds, only the characters that changed go (one edit),
        where they fit one part. The engine applies a document before any later message of the
        connection: a `generate` sent next edits this text, whether or not the `ready` has come yet."""
        sel = Selection(*selection) if selection is not None else None
        if since is not None:
            edit = edit_between(since, text)
            if utf8_size(edit.text) <= MAX_PART_BYTES // 2:
                msg = Update(session, edits=[edit], selection=sel)
                return msg, await self._request(msg)
        parts = document_parts(text)
        msg = Update(session, text=parts[0], selection=sel)
        return msg, await self._request(msg, parts[1:])

    async def close_session(self, session: str) -> None:
        """Tell the engine a session is no longer needed (it frees its document and cache)."""
        await self.send(Close(session, id=self._new_message_id()))

    async def measure(self, session: str, instruction: str, selection: tuple[int, int],
                      timeout_s: float = 30.0) -> dict[str, Any]:
        """The engine's exact prompt size for a would-be edit (`measured`: prompt_tokens,
        source_tokens, context_length, fits)."""
        msg = Measure(session, instruction, Selection(*selection))
        return await self._reply_of(await self._request(msg), msg, timeout_s)

    async def _request(self, msg: Open | Update | Measure, more_parts: list[str] | tuple[str, ...] = ()
                       ) -> asyncio.Future[dict[str, Any]]:
        """Send `msg` under a fresh id (its further parts as `append`s); the future of its reply."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        msg.id = self._new_message_id()
        if more_parts:
            msg.parts = len(more_parts) + 1  # type: ignore[union-attr]
        self._replies[msg.id] = future
        future.add_done_callback(lambda _f, mid=msg.id: self._replies.pop(mid, None))
        try:
            await self.send(msg)
            for part in more_parts:
                if future.done():
                    break  # refused early (document_too_large): the rest would be refused too
                await asyncio.sleep(0)  # let the window paint between megabytes
                await self.send(Append(msg.session, part, id=msg.id))
        except BaseException:
            future.cancel()
            raise
        return future

    @staticmethod
    async def _reply_of(future: asyncio.Future[dict[str, Any]], msg: Message, timeout_s: float) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(future, timeout_s)
        except asyncio.TimeoutError:
            raise EngineError("timeout", f"The engine did not answer {msg.type} within {timeout_s:g} s.") from None

    async def generate(
        self, session: str, instruction: str, selection: tuple[int, int], **options: Any
    ) -> RequestStream:
        """Send `generate` and return the stream of its events.

        `options` are the protocol's optional fields (max_tokens, temperature, seed, speculate,
        whole, profile, emulate); None values are left out.
        """
        request_id = self.new_request_id()
        stream = RequestStream(request_id, time.perf_counter())
        self._streams[request_id] = stream
        msg = Generate(session, request_id, instruction, Selection(*selection),
                       **{k: v for k, v in options.items() if v is not None})
        try:
            await self.send(msg)
        except EngineError:
            self._streams.pop(request_id, None)
            raise
        stream.sent_at_s = time.perf_counter()
        return stream

    async def stop(self, request_id: str) -> None:
        """Ask the engine to compute no further token for `request_id` (sent once per run)."""
        stream = self._streams.get(request_id)
        if stream is not None:
            if stream.stop_sent:
                return
            stream.stop_sent = True
        await self.send(Stop(request_id))

    async def redirect(self, request_id: str, instruction: str) -> RequestStream:
        """Continue `request_id` with a new instruction; its stream reopens if it had ended.

        Every event carries its request's id and the engine retires a request before its final
        `done` goes out, so a redirect right after that `done` restarts it: no barrier needed."""
        stream = self._streams.get(request_id)
        if stream is None or stream.finished:
            stream = RequestStream(request_id, time.perf_counter())
            self._streams[request_id] = stream
        await self.send(Redirect(request_id, instruction))
        return stream

    async def ping(self, timeout_s: float = 5.0) -> float:
        """Round trip to the engine in milliseconds."""
        msg = Ping(self._new_message_id())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[str(msg.id)] = future
        future.add_done_callback(lambda _f: self._replies.pop(str(msg.id), None))
        started = time.perf_counter()
        await self.send(msg)
        await self._reply_of(future, msg, timeout_s)
        return (time.perf_counter() - started) * 1000.0

    # -- receiving ----------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        assert self._ws is not None
        reason = "the engine closed the connection"
        try:
            async for raw in self._ws:
                self._dispatch(_decode(raw))
        except ConnectionClosed as exc:
            reason = f"the engine connection was lost ({exc})"
        except asyncio.CancelledError:
            reason = "the app closed the connection"
            raise
        finally:
            if self._closing:
                reason = "the app closed the connection"
            self._connection_gone(reason)

    def _dispatch(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        request_id = msg.get("request")
        if request_id is not None and str(request_id) in self._streams:
            stream = self._streams[str(request_id)]
            stream.put(msg)
            if stream.finished:
                self._streams.pop(str(request_id), None)
            return
        if kind == "ready" and self.on_ready:
            self.on_ready(msg)
        mid = msg.get("id")
        future = self._replies.get(str(mid)) if mid is not None else None
        if future is not None:
            if kind == "error":
                future.set_exception(EngineError(str(msg.get("code")), str(msg.get("message"))))
            else:
                future.set_result(msg)
            return
        if kind == "ready" or (isinstance(mid, str) and mid.startswith(self.client_id)):
            return  # a reply nobody awaits any more (an abandoned wait, a part after a refusal)
        if self.on_message:
            self.on_message(msg)

    def _connection_gone(self, reason: str) -> None:
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        # Whatever arrived stays queued ahead of this; the reader of each stream sees it all.
        for request_id, stream in list(self._streams.items()):
            stream.put({"type": "error", "code": ENGINE_LOST, "message": reason, "request": request_id})
        self._streams.clear()
        error = EngineError(ENGINE_LOST, reason)
        for future in list(self._replies.values()):
            if not future.done():
                future.set_exception(error)
        self._replies.clear()
        if self.on_closed:
            self.on_closed(reason)


def document_parts(text: str, max_bytes: int = MAX_PART_BYTES) -> list[str]:
    """`text` cut into parts of at most `max_bytes` UTF-8 bytes, never inside a character."""
    return _document_parts(text, max_bytes)


def _decode(raw: str | bytes) -> dict[str, Any]:
    """One frame → one message; a malformed frame becomes an `error` message, not an exception."""
    try:
        msg = json.loads(raw)
    except (TypeError, ValueError) as exc:
        return {"type": "error", "code": "bad_frame", "message": f"unreadable frame from the engine: {exc}"}
    if not isinstance(msg, dict):
        return {"type": "error", "code": "bad_frame", "message": "frame from the engine is not an object"}
    return msg
