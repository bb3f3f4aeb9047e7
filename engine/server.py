"""The engine's WebSocket server.

Security by default: binds 127.0.0.1, the first frame must be ``hello`` with the right token
(compared in constant time), connections carrying an ``Origin`` header (i.e. opened by a web
page) are refused unless allowed explicitly, and frames are bounded in size.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode
from websockets.protocol import State

from .backends import Backend, GenerateRequest
from .protocol import PROTOCOL_VERSION, ProtocolError, apply_edits, parse_client_message, selection_of
from .sampling import SamplingParams
from .session import Document, RequestError

log = logging.getLogger("tessera.engine")

HELLO_TIMEOUT_S = 10.0
DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"  # loopback only unless the user asks otherwise
    port: int = 0  # 0 = any free port
    token: str = ""  # shared secret every client must present in hello
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES  # larger frames close the connection (1009)
    allowed_origins: tuple[str, ...] = ()  # web origins allowed besides native clients (no Origin)
    openai_api: bool = True  # also answer the OpenAI-compatible API (engine/oai/) on the same port


_encode = json.JSONEncoder(separators=(",", ":")).encode  # one compact encoder, not one per message


class FastSendConnection(ServerConnection):
    """websockets' server connection with a direct path for sending one small text frame.

    ``send()`` wraps every frame in an async context manager and a drain; for the engine's many
    small frames (tokens, pongs) that was about a fifth of the server's time per message. When the connection
    is open, no fragmented send is under way and the transport is not paused by flow control, the
    frame goes straight to the transport; otherwise (and on any websockets without the attributes
    this relies on) it takes the ordinary ``send()``.
    """

    # Called on the loop the moment the peer's close frame (or the connection's loss) arrives. The
    # closing handshake may complete much later (our reply queues behind frames the peer no longer
    # reads), and only then does ``recv`` raise; a running request must stop at once.
    on_peer_close: Callable[[], None] | None = None

    def process_event(self, event) -> None:
        super().process_event(event)
        if getattr(event, "opcode", None) is Opcode.CLOSE:
            self._peer_closed()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._peer_closed()

    def _peer_closed(self) -> None:
        callback, self.on_peer_close = self.on_peer_close, None
        if callback is not None:
            callback()

    def write_text_now(self, data: bytes) -> bool:
        """Queue one text frame on the transport now; False when ``send()`` must be used."""
        try:
            if (self.protocol.state is not State.OPEN or self.send_in_progress is not None or self.paused
                    or self.transport.is_closing()):
                return False
        except AttributeError:  # a websockets version without these internals
            return False
        self.protocol.send_text(data)
        try:
            self.send_data()
        except Exception as exc:  # as send() handles it: the connection is dead, end it
            self.set_connection_exc(exc)
            self.transport.abort()
        return True


class Connection:
    """One client: its authenticated state and its running streams."""

    def __init__(self, ws: ServerConnection, backend: Backend, config: ServerConfig):
        self.ws = ws
        self.backend = backend
        self.config = config
        self.streams: dict[str, asyncio.Task] = {}

    async def send(self, msg: dict) -> None:
        data = _encode(msg)
        ws = self.ws
        if isinstance(ws, FastSendConnection) and ws.write_text_now(data.encode()):
            return
        try:
            await ws.send(data)
        except ConnectionClosed:
            pass

    async def error(self, code: str, message: str, request: str | None = None) -> None:
        await self.send(ProtocolError(code, message, request).to_message())

    async def authenticate(self) -> bool:
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
        if msg["type"] != "hello" or not hmac.compare_digest(str(msg.get("token", "")).encode(),
                                                             self.config.token.encode()):
            await self.error("unauthorized", "the first message must be hello with the engine's token")
            await self.ws.close(1008, "unauthorized")
            return False
        if msg.get("protocol", PROTOCOL_VERSION) != PROTOCOL_VERSION:
            await self.error("bad_protocol", f"this engine speaks protocol {PROTOCOL_VERSION}")
            await self.ws.close(1008, "protocol version")
            return False
        from .wafer_bridge import emulate_models, profile_names  # late import: the wafer package is optional here

        await self.send({"type": "welcome", "protocol": PROTOCOL_VERSION, "model": self.backend.describe(),
                         "profiles": profile_names(), "emulate_models": emulate_models(), "loop": loop_name()})
        return True

    async def serve(self) -> None:
        if not await self.authenticate():
            return
        try:
            async for raw in self.ws:
                try:
                    msg = parse_client_message(raw)
                    await self.dispatch(msg)
                except (ProtocolError, RequestError) as exc:
                    reply = ProtocolError(exc.code, str(exc), getattr(exc, "request", None)).to_message()
                    reply.update(_ids_of(raw, reply))
                    await self.send(reply)
        finally:
            for rid, task in list(self.streams.items()):
                self.backend.stop(rid)
                task.cancel()
            await asyncio.gather(*self.streams.values(), return_exceptions=True)

    async def dispatch(self, msg: dict) -> None:
        kind = msg["type"]
        backend = self.backend
        if kind == "ping":
            await self.send({"type": "pong", "id": msg.get("id")})
        elif kind == "hello":
            await self.error("bad_request", "already authenticated")
        elif kind == "open":
            doc = msg["document"]
            backend.open(msg["session"], Document(doc["text"], doc.get("path"), doc.get("language") or "python"))
            await self.send((await backend.prewarm(msg["session"])).to_message())
        elif kind == "update":
            document = backend.document(msg["session"])
            text = document.text
            if "text" in msg:
                text = msg["text"]
            if "edits" in msg:
                text = apply_edits(text, msg["edits"])
            sel = selection_of(msg)
            if sel is not None and sel[1] > len(text):
                raise ProtocolError("bad_selection", "selection is outside the document")
            backend.update(msg["session"], text, sel)
            await self.send((await backend.prewarm(msg["session"])).to_message())
        elif kind == "close":
            backend.close_session(msg["session"])
        elif kind == "measure":
            await self.send(backend.measure(msg["session"], msg["instruction"], selection_of(msg)))
        elif kind == "generate":
            rid = msg["request"]
            if rid in self.streams:
                raise RequestError("duplicate_request", f"request {rid!r} is already streaming")
            try:
                sampling = SamplingParams(float(msg.get("temperature") or 0.0), float(msg.get("top_p") or 1.0),
                                          msg.get("seed"))
            except ValueError as exc:
                raise RequestError("bad_request", str(exc)) from None
            events = backend.generate(GenerateRequest(
                msg["session"], rid, msg["instruction"], selection_of(msg), msg.get("max_tokens"), sampling,
                msg.get("speculate", True), profile=msg.get("profile"), emulate=msg.get("emulate"), side=self.send))
            self._start_stream(rid, events)
        elif kind == "stop":
            # Stopping a request that already ended is not an error (the user pressed Esc just as
            # it finished); only ids the engine never saw are.
            rid = msg["request"]
            if not backend.stop(rid) and rid not in self.streams and not backend.knows(rid):
                await self.error("unknown_request", f"request {rid!r} is not running", rid)
        elif kind == "redirect":
            rid = msg["request"]
            restart = backend.redirect(rid, msg["instruction"])
            if restart is not None:
                self._start_stream(rid, restart)

    def _start_stream(self, rid: str, events) -> None:
        task = asyncio.create_task(self._run_stream(rid, events))
        self.streams[rid] = task
        task.add_done_callback(lambda _t, rid=rid: self.streams.pop(rid, None))

    async def _run_stream(self, rid: str, events) -> None:
        try:
            async for ev in events:
                await self.send(ev.to_message())
        except RequestError as exc:
            await self.error(exc.code, str(exc), rid)


def _ids_of(raw, reply: dict) -> dict:
    """The request and session ids of a refused frame, so the client can match the error."""
    try:
        msg = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    if not isinstance(msg, dict):
        return {}
    return {k: msg[k] for k in ("request", "session") if isinstance(msg.get(k), str) and k not in reply}


async def _handler(ws: ServerConnection, backend: Backend, config: ServerConfig) -> None:
    await Connection(ws, backend, config).serve()


async def start_server(backend: Backend, config: ServerConfig):
    """Start serving; returns the websockets Server (its port is in `server_port(server)`).

    With ``config.openai_api`` the port also answers the OpenAI-compatible API over HTTP and the
    Responses WebSocket mode (engine/httpfront.py, engine/oai/); without it, websockets serves the
    native protocol alone.
    """
    if not config.token:
        raise ValueError("the engine needs a token")
    origins = [None, *config.allowed_origins]
    ws_options = dict(max_queue=64, ping_interval=20, ping_timeout=60)
    if not config.openai_api:
        return await serve(
            functools.partial(_handler, backend=backend, config=config),
            config.host, config.port, origins=origins, max_size=config.max_message_bytes,
            create_connection=FastSendConnection, **ws_options,
        )
    from .httpfront import FrontConfig, serve_front
    from .oai.api import WS_PATH, ApiConfig, OpenAIApi

    api = OpenAIApi(backend, ApiConfig(config.token, config.allowed_origins))

    async def ws_handler(ws: ServerConnection) -> None:
        if ws.request.path.split("?", 1)[0].rstrip("/") == WS_PATH:
            await api.responses_socket(ws)
        else:
            await Connection(ws, backend, config).serve()

    front = FrontConfig(config.max_message_bytes, origins, {**ws_options, "create_connection": FastSendConnection})
    return await serve_front(config.host, config.port, ws_handler, api.ws_process_request, api.http, front)


def loop_name() -> str:
    """"uvloop" or "asyncio": the event loop serving (reported in ``welcome``, for diagnostics)."""
    module = type(asyncio.get_running_loop()).__module__
    return "uvloop" if module.startswith("uvloop") else "asyncio"


def server_port(server) -> int:
    return server.sockets[0].getsockname()[1]
