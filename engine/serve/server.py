"""The engine's WebSocket server.

Security by default: binds 127.0.0.1, the first frame must be ``hello`` with the right token
(compared in constant time), connections carrying an ``Origin`` header (i.e. opened by a web
page) are refused unless allowed explicitly, frames are bounded in size (4 KiB before ``hello``),
and so are connections and what each may hold (engine/serve/limits.py). One client's connection is
engine/serve/connection.py.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Opcode
from websockets.protocol import State

from ..backends import Backend
from .limits import Limits
from wire import MAX_FRAME_BYTES

DEFAULT_MAX_MESSAGE_BYTES = MAX_FRAME_BYTES


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"  # loopback only unless the user asks otherwise
    port: int = 0  # 0 = any free port
    token: str = ""  # shared secret every client must present in hello
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES  # larger frames close the connection (1009)
    allowed_origins: tuple[str, ...] = ()  # web origins allowed besides native clients (no Origin)
    openai_api: bool = True  # also answer the OpenAI-compatible API (engine/serve/oai/) on the same port
    limits: Limits = field(default_factory=Limits)  # per-connection and server-wide bounds (native protocol)


encode_message = json.JSONEncoder(separators=(",", ":")).encode  # one compact encoder, not one per message


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



class ConnectionCounter:
    """Open native-protocol connections, so the server can refuse one past the cap."""

    def __init__(self) -> None:
        self.open = 0


async def _handler(ws: ServerConnection, backend: Backend, config: ServerConfig, counter: ConnectionCounter) -> None:
    from .connection import Connection

    conn = Connection(ws, backend, config)
    if counter.open >= config.limits.max_connections:
        await conn.error("too_many_connections", f"the engine serves at most {config.limits.max_connections} connections")
        await ws.close(1013, "too many connections")
        return
    counter.open += 1
    try:
        await conn.serve()
    finally:
        counter.open -= 1


async def start_server(backend: Backend, config: ServerConfig):
    """Start serving; returns the websockets Server (its port is in `server_port(server)`).

    With ``config.openai_api`` the port also answers the OpenAI-compatible API over HTTP and the
    Responses WebSocket mode (engine/serve/httpfront.py, engine/serve/oai/); without it, websockets serves the
    native protocol alone.
    """
    if not config.token:
        raise ValueError("the engine needs a token")
    origins = [None, *config.allowed_origins]
    counter = ConnectionCounter()
    ws_options = dict(max_queue=16, ping_interval=20, ping_timeout=60)
    if not config.openai_api:
        return await serve(
            functools.partial(_handler, backend=backend, config=config, counter=counter),
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
            await _handler(ws, backend, config, counter)

    front = FrontConfig(config.max_message_bytes, origins, {**ws_options, "create_connection": FastSendConnection})
    return await serve_front(config.host, config.port, ws_handler, api.ws_process_request, api.http, front)




def loop_name() -> str:
    """"uvloop" or "asyncio": the event loop serving (reported in ``welcome``, for diagnostics)."""
    module = type(asyncio.get_running_loop()).__module__
    return "uvloop" if module.startswith("uvloop") else "asyncio"


def server_port(server) -> int:
    return server.sockets[0].getsockname()[1]
