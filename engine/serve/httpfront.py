"""One port, two dialects: WebSocket upgrades go to websockets, plain HTTP requests to h11.

websockets' server answers non-upgrade requests only with whole responses (``process_request``),
which cannot stream Server-Sent Events. So the listening socket belongs to a small asyncio
protocol that reads the first request head and hands the connection over:

- a WebSocket upgrade → a websockets ``ServerConnection`` (the same class, options and handshake
  that ``websockets.asyncio.server.serve`` builds). The transport is handed to it with the bytes
  read so far; from then on every frame goes transport → websockets directly, so the WebSocket
  path costs exactly what it cost before (measured: ``tessera-engine bench`` ws_overhead_ms);
- anything else → :class:`HttpConnection`, an HTTP/1.1 server on h11 (sans-I/O, the parser
  httpx and uvicorn's h11 worker use) that streams responses with flow control.

The returned object is websockets' ``Server`` (``close``, ``wait_closed``, ``sockets``), which
also closes the HTTP connections.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import h11
from websockets.asyncio.server import Server, ServerConnection
from websockets.extensions.permessage_deflate import enable_server_permessage_deflate
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol

log = logging.getLogger("tessera.engine.http")

MAX_HEAD_BYTES = 64 * 1024  # request line + headers
HEAD_TIMEOUT_S = 10.0  # a client must send its request head within this
OPEN_TIMEOUT_S = 10.0  # and finish a WebSocket handshake within this


@dataclass
class HttpRequest:
    method: str  # "GET", "POST", ...
    path: str  # the path without the query string
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes = b""  # the whole body (bounded by the front's max_body_bytes)


@dataclass
class FrontConfig:
    max_body_bytes: int  # larger request bodies get 413
    origins: list[str | None]  # allowed Origin header values; None = no Origin (native clients)
    ws_options: dict = field(default_factory=dict)  # ServerConnection options (ping_interval, max_queue, ...)


HttpApp = Callable[["HttpExchange"], Awaitable[None]]
WsProcessRequest = Callable[[ServerConnection, Request], Response | None]
WsHandler = Callable[[ServerConnection], Awaitable[None]]


class HttpExchange:
    """One HTTP request and the means to answer it, whole or streamed."""

    def __init__(self, conn: HttpConnection, request: HttpRequest):
        self.conn = conn
        self.request = request
        self.started = False  # the status line has been sent
        self._on_close: list[Callable[[], None]] = []

    @property
    def closed(self) -> bool:
        """The client has gone away (closed the stream or the socket)."""
        return self.conn.lost

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call `callback` on the loop the moment the client goes away (at once if it already has)."""
        if self.conn.lost:
            callback()
        else:
            self._on_close.append(callback)

    async def respond(self, status: int, body: bytes, content_type: str = "application/json",
                      headers: list[tuple[str, str]] = ()) -> None:
        await self.start(status, content_type, [*headers, ("content-length", str(len(body)))])
        await self.write(body)
        await self.end()

    async def start(self, status: int, content_type: str, headers: list[tuple[str, str]] = ()) -> None:
        self.started = True
        await self.conn.send(h11.Response(status_code=status, headers=[("content-type", content_type), *headers]))

    async def write(self, data: bytes) -> bool:
        """Send part of the body; False once the client is gone (the data is dropped)."""
        if not data:
            return not self.conn.lost
        return await self.conn.send(h11.Data(data=data))

    async def end(self) -> None:
        await self.conn.send(h11.EndOfMessage())


class HttpConnection(asyncio.Protocol):
    """HTTP/1.1 on one connection: requests one at a time (keep-alive), each run by `app`."""

    def __init__(self, app: HttpApp, config: FrontConfig, registry: set):
        self.app = app
        self.config = config
        self.registry = registry
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.task: asyncio.Task | None = None
        self.exchange: HttpExchange | None = None
        self._request: h11.Request | None = None
        self._body = bytearray()
        self._writable = asyncio.Event()
        self._writable.set()

    # -- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.registry.add(self)

    def data_received(self, data: bytes) -> None:
        self.h11.receive_data(data)
        if self.task is not None and len(self.h11.trailing_data[0]) > self.config.max_body_bytes + MAX_HEAD_BYTES:
            self.transport.close()  # a client piling up data while its request runs
            return
        self._pump()

    def eof_received(self) -> bool | None:
        """The client closed its side: gone, if a request is running (which stops it); otherwise
        answer what it sent before (pipelined requests), then close."""
        self.h11.receive_data(b"")
        if self.task is not None:
            return None  # the transport closes: connection_lost stops the running request
        self._pump()
        return True if self.task is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.registry.discard(self)
        self._writable.set()  # a writer waiting on flow control must see the loss
        if self.exchange is not None:
            callbacks, self.exchange._on_close = self.exchange._on_close, []
            for cb in callbacks:
                try:
                    cb()
                except Exception:
                    log.exception("close callback failed")

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- requests ---------------------------------------------------------------------------
    def _pump(self) -> None:
        while self.task is None and not self.lost:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._refuse(exc.error_status_hint or 400, f"malformed HTTP request: {exc}")
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._request, self._body = event, bytearray()
                if len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers) > MAX_HEAD_BYTES:
                    self._refuse(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes")
                    return
                length = dict(event.headers).get(b"content-length")
                if length is not None and length.isdigit() and int(length) > self.config.max_body_bytes:
                    self._refuse(413, f"the request body is larger than {self.config.max_body_bytes} bytes")
                    return
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > self.config.max_body_bytes:
                    self._refuse(413, f"the request body is larger than {self.config.max_body_bytes} bytes")
                    return
            elif isinstance(event, h11.EndOfMessage):
                self._start(self._request, bytes(self._body))
            elif isinstance(event, h11.ConnectionClosed):
                self.transport.close()
                return

    def _start(self, req: h11.Request, body: bytes) -> None:
        headers: dict[str, str] = {}
        for name, value in req.headers:
            key = name.decode("latin-1").lower()
            val = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {val}" if key in headers else val
        target = req.target.decode("latin-1")
        request = HttpRequest(req.method.decode("ascii"), target.split("?", 1)[0], headers, body)
        self.exchange = HttpExchange(self, request)
        self.task = asyncio.get_running_loop().create_task(self._run(self.exchange))

    async def _run(self, exchange: HttpExchange) -> None:
        try:
            await self.app(exchange)
        except Exception:
            log.exception("HTTP handler failed")
            if not exchange.started and not self.lost:
                await exchange.respond(500, b'{"error":{"message":"internal error (see the engine log)",'
                                            b'"type":"server_error","code":"internal_error"}}')
            elif not self.lost:
                self.transport.close()
        finally:
            self.task = None
            self.exchange = None
        if self.lost:
            return
        if self.h11.our_state is h11.MUST_CLOSE or self.h11.their_state is h11.MUST_CLOSE:
            self.transport.close()
            return
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            self._pump()
        else:
            self.transport.close()

    async def send(self, event) -> bool:
        if self.lost:
            return False
        try:
            data = self.h11.send(event)
        except h11.LocalProtocolError:
            self.transport.close()
            return False
        if data:
            self.transport.write(data)
        if not self._writable.is_set():
            await self._writable.wait()
        return not self.lost

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request that cannot be read (malformed, too large) and close the connection."""
        code = {413: "request_too_large", 431: "headers_too_large"}.get(status, "bad_request")
        body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": code}}).encode()
        try:
            if self.h11.our_state is h11.SEND_RESPONSE or self.h11.our_state is h11.IDLE:
                self.transport.write(self.h11.send(h11.Response(status_code=status, headers=[
                    ("content-type", "application/json"), ("content-length", str(len(body))),
                    ("connection", "close")])))
                self.transport.write(self.h11.send(h11.Data(data=body)))
                self.transport.write(self.h11.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:
            pass
        self.transport.close()


class _Sniffer(asyncio.Protocol):
    """Reads the first request head, then hands the connection to WebSocket or HTTP handling."""

    def __init__(self, front: _Front):
        self.front = front
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.timer = asyncio.get_running_loop().call_later(HEAD_TIMEOUT_S, transport.close)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > MAX_HEAD_BYTES:
                self._hand_over(HttpConnection(self.front.http_app, self.front.config, self.front.http_connections))
            return
        if _is_websocket_upgrade(bytes(self.buf[:end])):
            self._hand_over(self.front.new_ws_connection())
        else:
            self._hand_over(HttpConnection(self.front.http_app, self.front.config, self.front.http_connections))

    def _hand_over(self, protocol: asyncio.Protocol) -> None:
        self.timer.cancel()
        data, self.buf = bytes(self.buf), bytearray()
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        protocol.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()


def _is_websocket_upgrade(head: bytes) -> bool:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"upgrade" and b"websocket" in value.lower():
            return True
    return False


class _Front(Server):
    """websockets' Server over the sniffing listener; closing it also closes HTTP connections."""

    def __init__(self, host: str, port: int, ws_handler: WsHandler, ws_process_request: WsProcessRequest,
                 http_app: HttpApp, config: FrontConfig):
        async def create_server() -> asyncio.AbstractServer:
            return await asyncio.get_running_loop().create_server(lambda: _Sniffer(self), host, port)

        super().__init__(create_server, self._ws_lifecycle, logging.getLogger("websockets.server"))
        self.ws_handler = ws_handler
        self.ws_process_request = ws_process_request
        self.http_app = http_app
        self.config = config
        self.http_connections: set[HttpConnection] = set()
        self.connection_class = config.ws_options.pop("create_connection", ServerConnection)

    def new_ws_connection(self) -> ServerConnection:
        """As websockets' ``serve`` builds one (compression on, origins and frame size bounded)."""
        protocol = ServerProtocol(origins=self.config.origins, extensions=enable_server_permessage_deflate(None),
                                  max_size=self.config.max_body_bytes, logger=self.logger)
        return self.connection_class(protocol, self, **self.config.ws_options)

    async def _ws_lifecycle(self, connection: ServerConnection) -> None:
        """websockets' own per-connection lifecycle (asyncio/server.py ``protocol_handler``)."""
        try:
            async with asyncio.timeout(OPEN_TIMEOUT_S):
                await connection.handshake(self.ws_process_request)
            if connection.protocol.state is not State.OPEN:
                connection.transport.abort()
                return
            self.all_connections.add(connection)
            connection.start_keepalive()
            try:
                async with connection:
                    await self.ws_handler(connection)
            except Exception:
                connection.logger.error("connection handler failed", exc_info=True)
            finally:
                self.all_connections.discard(connection)
        except Exception:
            connection.transport.abort()
        finally:
            self.handler_tasks.discard(asyncio.current_task())

    def close(self, *args, **kwargs) -> None:
        for conn in list(self.http_connections):
            if conn.transport is not None:
                conn.transport.close()
        super().close(*args, **kwargs)


async def serve_front(host: str, port: int, ws_handler: WsHandler, ws_process_request: WsProcessRequest,
                      http_app: HttpApp, config: FrontConfig) -> Server:
    """Listen on host:port; returns the started server."""
    return await _Front(host, port, ws_handler, ws_process_request, http_app, config)
