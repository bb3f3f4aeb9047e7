"""The OpenAI-compatible API on the engine's port: routing, the token, origins, errors.

The engine's token is the API key (``Authorization: Bearer <token>``); requests from a web page
(an ``Origin`` header) are refused unless that origin was allowed; bodies are bounded by the
front (413). Every error has OpenAI's shape ``{"error": {"message", "type", "code", "param"}}``.

Routes: ``GET /v1/models``, ``GET /v1/models/{id}``, ``POST /v1/chat/completions``,
``POST /v1/completions``, ``POST /v1/responses``, and the Responses WebSocket mode on
``/v1/responses``.
"""

from __future__ import annotations

import asyncio
import hmac
import http
import json
import logging
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from ...backends import Backend, ModelInfo
from ..httpfront import HttpExchange
from .chat import chat_completions
from .errors import ApiError, field, parse_body
from .responses import ResponseStore, run_turn
from .run import EditRun

log = logging.getLogger("tessera.engine.api")

WS_PATH = "/v1/responses"
LOCAL_RESPONSES = 16  # responses a WebSocket connection keeps for itself (store: false included)


@dataclass
class ApiConfig:
    token: str  # the engine's token, used as the API key
    allowed_origins: tuple[str, ...] = ()  # web origins allowed besides native clients


class OpenAIApi:
    def __init__(self, backend: Backend, config: ApiConfig):
        self.backend = backend
        self.config = config
        self.store = ResponseStore()

    # -- shared -----------------------------------------------------------------------------
    def model_of(self, body: dict) -> ModelInfo:
        name = field(body, "model", str, required=True)
        for m in self.backend.models():
            if m.id == name:
                return m
        raise ApiError(404, f"the model {name!r} does not exist; this engine serves "
                            f"{', '.join(m.id for m in self.backend.models())}", code="model_not_found", param="model")

    def _authorized(self, value: str | None) -> bool:
        scheme, _, key = (value or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(key.strip().encode(), self.config.token.encode())

    def _origin_refused(self, origin: str | None) -> bool:
        return origin is not None and origin not in self.config.allowed_origins

    async def json(self, ex: HttpExchange, status: int, obj: dict) -> None:
        await ex.respond(status, json.dumps(obj, separators=(",", ":")).encode(), headers=self._cors(ex))

    def _cors(self, ex: HttpExchange) -> list[tuple[str, str]]:
        origin = ex.request.headers.get("origin")
        return [("access-control-allow-origin", origin), ("vary", "Origin")] if origin else []

    # -- HTTP -------------------------------------------------------------------------------
    async def http(self, ex: HttpExchange) -> None:
        req = ex.request
        try:
            if self._origin_refused(req.headers.get("origin")):
                raise ApiError(403, "requests from web pages are refused (start the engine with --allow-origin)",
                               code="origin_not_allowed")
            if req.method == "OPTIONS":
                await ex.respond(204, b"", "text/plain", [*self._cors(ex), (
                    "access-control-allow-headers", "authorization, content-type"),
                    ("access-control-allow-methods", "GET, POST, OPTIONS")])
                return
            route = self._route(req.method, req.path)
            if not self._authorized(req.headers.get("authorization")):
                raise ApiError(401, "a valid API key is required: pass the engine's token as the Bearer key",
                               code="invalid_api_key")
            await route(ex)
        except ApiError as exc:
            if ex.started:
                log.warning("%s %s failed after its response began: %s", req.method, req.path, exc)
                return
            await self.json(ex, exc.status, exc.body())

    def _route(self, method: str, path: str):
        path = path.rstrip("/") or "/"
        posts = {"/v1/chat/completions": self._chat, "/v1/completions": self._completions,
                 "/v1/responses": self._responses}
        if path == "/v1/models" or path.startswith("/v1/models/"):
            if method != "GET":
                raise ApiError(405, f"{path} takes GET", code="method_not_allowed")
            return self._models
        if path in posts:
            if method != "POST":
                raise ApiError(405, f"{path} takes POST", code="method_not_allowed")
            return posts[path]
        raise ApiError(404, f"no route {method} {path}", code="not_found")

    async def _models(self, ex: HttpExchange) -> None:
        path = ex.request.path.rstrip("/")
        models = [{"id": m.id, "object": "model", "created": m.created, "owned_by": m.owned_by,
                   "context_length": m.context_length, "edit_only": m.edit_only} for m in self.backend.models()]
        if path == "/v1/models":
            await self.json(ex, 200, {"object": "list", "data": models})
            return
        name = path[len("/v1/models/"):]
        for m in models:
            if m["id"] == name:
                await self.json(ex, 200, m)
                return
        raise ApiError(404, f"the model {name!r} does not exist", code="model_not_found", param="model")

    async def _chat(self, ex: HttpExchange) -> None:
        await chat_completions(self, ex, parse_body(ex.request.body))

    async def _completions(self, ex: HttpExchange) -> None:
        await chat_completions(self, ex, parse_body(ex.request.body), completions=True)

    async def _responses(self, ex: HttpExchange) -> None:
        body = parse_body(ex.request.body)
        if not field(body, "stream", bool, False):
            final = await run_turn(self, body, _ignore, self.store,
                                   on_start=lambda run: ex.on_close(lambda: run.stop(client_gone=True)))
            await self.json(ex, 200, final)
            return

        async def emit(event: dict) -> bool:
            if not ex.started:
                await ex.start(200, "text/event-stream", [("cache-control", "no-cache"), *self._cors(ex)])
            data = json.dumps(event, separators=(",", ":"))
            return await ex.write(f"event: {event['type']}\ndata: {data}\n\n".encode())

        await run_turn(self, body, emit, self.store,
                       on_start=lambda run: ex.on_close(lambda: run.stop(client_gone=True)))
        await ex.end()

    # -- the Responses WebSocket mode --------------------------------------------------------
    def ws_process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        """Refuse a WebSocket handshake on /v1/ paths without the key (None: go ahead)."""
        path = request.path.split("?", 1)[0].rstrip("/")
        if not path.startswith("/v1/"):
            return None  # the native protocol: its token comes in `hello`
        if path != WS_PATH:
            return _http_error(404, ApiError(404, f"no WebSocket endpoint at {path}", code="not_found"))
        if not self._authorized(request.headers.get("Authorization")):
            return _http_error(401, ApiError(401, "a valid API key is required: pass the engine's token as the "
                                                  "Bearer key", code="invalid_api_key"))
        return None

    async def responses_socket(self, ws: ServerConnection) -> None:
        """One WebSocket-mode connection: one turn at a time; closing the socket stops the turn."""
        local = ResponseStore(LOCAL_RESPONSES)
        turn: asyncio.Task | None = None
        running: list[EditRun] = []

        async def emit(event: dict) -> bool:
            try:
                await ws.send(json.dumps(event, separators=(",", ":")))
                return True
            except ConnectionClosed:
                return False

        def peer_closed() -> None:
            if not running:
                return
            for r in running:
                r.stop(client_gone=True)
            # Events the client does not read hold back our reply to its close frame: drop them
            # rather than wait for the close timeout.
            transport = getattr(ws, "transport", None)
            if transport is not None and transport.get_write_buffer_size():
                transport.abort()

        if hasattr(ws, "on_peer_close"):
            ws.on_peer_close = peer_closed

        def started(edit_run: EditRun) -> None:
            running.append(edit_run)
            if ws.protocol.state is not State.OPEN:  # the client left while the turn was starting
                peer_closed()

        async def run(body: dict) -> None:
            try:
                await run_turn(self, body, emit, self.store, local, on_start=started)
            except ApiError as exc:
                await emit({"type": "error", "status": exc.status, **exc.body()})
            except Exception:
                log.exception("a Responses WebSocket turn failed")
                await emit({"type": "error", "status": 500, **ApiError(
                    500, "the engine failed (see its log)", "server_error", "internal_error").body()})
            finally:
                running.clear()

        try:
            async for raw in ws:
                try:
                    event = parse_body(raw.encode() if isinstance(raw, str) else raw)
                    if event.get("type") != "response.create":
                        raise ApiError(400, f"unknown event type {event.get('type')!r}; send 'response.create'",
                                       code="unknown_event_type", param="type")
                    if turn is not None and not turn.done():
                        raise ApiError(400, "a response is already in progress on this connection; wait for "
                                            "its response.completed (one turn at a time)",
                                       code="response_in_progress")
                    body = {k: v for k, v in event.items() if k not in ("type", "stream", "event_id")}
                    turn = asyncio.create_task(run(body))
                except ApiError as exc:
                    await emit({"type": "error", "status": exc.status, **exc.body()})
        except ConnectionClosed:
            pass
        finally:
            peer_closed()
            if turn is not None:
                await asyncio.gather(turn, return_exceptions=True)


async def _ignore(event: dict) -> bool:
    return True


def _http_error(status: int, exc: ApiError) -> Response:
    body = json.dumps(exc.body()).encode()
    return Response(status, http.HTTPStatus(status).phrase,
                    Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))]), body)
