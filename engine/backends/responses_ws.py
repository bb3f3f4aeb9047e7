"""The Responses API's WebSocket mode: one persistent socket, one ``response.create`` per turn.

The socket to ``{base}/responses`` (ws:// or wss://) is opened once, by the session's prewarm or
the first request, and kept for the next turns, so a turn costs one frame out instead of a new
HTTP request (connection, headers, TLS). A connection runs one turn at a time; concurrent
requests take further sockets from a small pool. A stop closes the socket (the mode's way to
cancel: the server stops generating). When the server refuses the upgrade (it has no WebSocket
mode), the backend falls back to Chat Completions over HTTP for good and says so in `transport`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from ..model.chat_edit import ChatEdit, build_chat_edit
from .endpoints import Endpoint
from .openai_http import ChatCompletionsBackend
from .remote import RemoteJob, Upstream, UpstreamError

MAX_FRAME_BYTES = 4 * 1024 * 1024  # largest server event accepted
IDLE_SOCKETS = 2  # sockets kept open between turns


def response_body(endpoint: Endpoint, job: RemoteJob, edit: ChatEdit, previous: str | None = None) -> dict:
    """A ``response.create`` event: the HTTP request's body minus ``stream``.

    With `previous` (a prewarmed turn that already holds the code), only the instruction is sent.
    """
    body: dict = {"type": "response.create", "model": endpoint.model, "store": False,
                  "temperature": job.sampling.temperature}
    if previous is not None:
        user = edit.messages[-1]["content"]
        body.update(previous_response_id=previous, input=[{"role": "user", "content": user[edit.instruction_at:]}])
    else:
        system = [m["content"] for m in edit.messages if m["role"] == "system"]
        body.update(instructions="\n".join(system),
                    input=[{"role": m["role"], "content": m["content"]} for m in edit.messages if m["role"] != "system"])
    if job.sampling.top_p < 1.0:
        body["top_p"] = job.sampling.top_p
    if job.max_tokens is not None:
        body["max_output_tokens"] = job.max_tokens
    return body


def parse_event(raw: str | bytes) -> list[Upstream] | None:
    """One server event as upstream items; None once the turn has ended."""
    try:
        ev = json.loads(raw)
    except ValueError:
        raise UpstreamError("upstream_error", f"a malformed event from the server: {str(raw)[:200]!r}") from None
    kind = ev.get("type") if isinstance(ev, dict) else None
    if kind == "response.output_text.delta":
        return [Upstream("delta", str(ev.get("delta") or ""))] if ev.get("delta") else []
    if kind in ("response.completed", "response.incomplete"):
        resp = ev.get("response") or {}
        usage = resp.get("usage") or {}
        details = resp.get("incomplete_details") or {}
        items = [Upstream("usage", usage={k: v for k, v in {
            "prompt_tokens": usage.get("input_tokens"), "completion_tokens": usage.get("output_tokens"),
            "cached_tokens": (usage.get("input_tokens_details") or {}).get("cached_tokens"),
            "accepted_prediction_tokens": (usage.get("output_tokens_details") or {}).get("accepted_prediction_tokens"),
            "rejected_prediction_tokens": (usage.get("output_tokens_details") or {}).get("rejected_prediction_tokens"),
        }.items() if v is not None})]
        finish = "length" if kind == "response.incomplete" and "max_output_tokens" in str(details) else "stop"
        return [*items, Upstream("end", finish=finish), None]
    if kind in ("response.failed", "error"):
        err = (ev.get("response") or {}).get("error") if kind == "response.failed" else ev.get("error", ev)
        err = err if isinstance(err, dict) else {"message": str(err)}
        raise UpstreamError(str(err.get("code") or "upstream_error"), f"the server failed: {err.get('message')}")
    return []  # response.created, output_item.added, ...: nothing to show


class ResponsesSocketBackend(ChatCompletionsBackend):
    """A remote server over the Responses WebSocket mode, falling back to HTTP when refused."""

    transport = "websocket"

    def __init__(self, endpoint: Endpoint, client=None):
        super().__init__(endpoint, client)
        self._idle: list[ClientConnection] = []  # open sockets between turns
        self._warm: dict[str, tuple[tuple, str, ClientConnection]] = {}  # session → (document key, prewarmed
        # response id, the socket that holds it): the next turn on that socket sends only the instruction
        self.connects = 0  # sockets opened so far (a kept socket is not reopened per turn)
        self.warm_turns = 0  # turns that continued a prewarmed response

    async def probe(self) -> None:
        """Also open the socket the next turn will use: a refused upgrade switches to HTTP here."""
        await super().probe()
        if self.transport == "websocket" and not self._idle:
            try:
                self._idle.append(await self._connect())
            except _Refused:
                self.transport = "http"  # for good: this server has no WebSocket mode
            except (UpstreamError, OSError, asyncio.TimeoutError):
                pass  # the first request reports it

    async def prewarm(self, session: str):
        """Open the socket and send the code ahead (``generate: false``): the server prefills it."""
        ready = await super().prewarm(session)
        if self.transport == "websocket" and self._idle:
            try:
                await self._warm_up(session)
            except (UpstreamError, ConnectionClosed, OSError, asyncio.TimeoutError, TimeoutError):
                self._warm.pop(session, None)  # a turn then sends everything, as without prewarm
        return ready

    async def _warm_up(self, session: str) -> None:
        doc = self.document(session)
        selection = doc.selection or (0, len(doc.text))
        key = _key(doc.text, selection, doc.path, doc.language)
        held = self._warm.get(session)
        if held is not None and held[0] == key and held[2] in self._idle:
            return
        ws = self._idle.pop()
        try:
            edit = build_chat_edit("", doc.text, selection, doc.path, doc.language)
        except (ValueError, IndexError):
            self._idle.append(ws)
            return
        system = [m["content"] for m in edit.messages if m["role"] == "system"]
        head = edit.messages[-1]["content"][:edit.instruction_at] + "The instruction follows in the next message."
        await ws.send(json.dumps({"type": "response.create", "model": self.endpoint.model, "store": False,
                                  "generate": False, "instructions": "\n".join(system),
                                  "input": [{"role": "user", "content": head}]}))
        while True:
            async with asyncio.timeout(self.endpoint.timeout_s):
                ev = json.loads(await ws.recv())
            if ev.get("type") == "response.completed":
                self._warm[session] = (key, str(ev["response"]["id"]), ws)
                self._idle.append(ws)
                return
            if ev.get("type") in ("response.failed", "error", "response.incomplete"):
                self._idle.append(ws)  # the server cannot prepare turns: nothing is lost
                return

    def close_session(self, session: str) -> None:
        super().close_session(session)
        self._warm.pop(session, None)

    async def _connect(self) -> ClientConnection:
        url = self.endpoint.websocket_url
        try:
            ws = await connect(url, additional_headers=self.endpoint.headers(), max_size=MAX_FRAME_BYTES,
                               open_timeout=self.endpoint.timeout_s, ping_interval=20, ping_timeout=60,
                               close_timeout=2, compression=None)
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise UpstreamError("upstream_unauthorized", f"{url} refused the key ({status})", status) from None
            raise _Refused(f"{url} refused the WebSocket upgrade ({status})") from None
        except InvalidHandshake as exc:
            raise _Refused(f"{url} refused the WebSocket upgrade ({exc})") from None
        except (asyncio.TimeoutError, TimeoutError):
            raise UpstreamError("upstream_timeout", f"no WebSocket handshake from {url} within "
                                f"{self.endpoint.timeout_s:g} s") from None
        except OSError as exc:
            raise UpstreamError("upstream_unreachable", f"cannot reach {url}: {exc}") from None
        self.connects += 1
        return ws

    async def upstream(self, job: RemoteJob, edit: ChatEdit) -> AsyncIterator[Upstream]:
        if self.transport == "websocket":
            previous = None
            held = self._warm.pop(job.session, None)
            doc = job.document
            if (held is not None and not job.output_text and held[2] in self._idle
                    and held[0] == _key(doc.text, job.selection, doc.path, doc.language)):
                self._idle.remove(held[2])
                ws, previous = held[2], held[1]
                self.warm_turns += 1
            try:
                if previous is None:
                    ws = self._idle.pop() if self._idle else await self._connect()
            except _Refused:
                self.transport = "http"  # for good: this server has no WebSocket mode
            else:
                async for item in self._turn(ws, job, edit, previous):
                    yield item
                return
        async for item in self.chat_stream(job, edit):
            yield item

    async def _turn(self, ws: ClientConnection, job: RemoteJob, edit: ChatEdit,
                    previous: str | None = None) -> AsyncIterator[Upstream]:
        finished = False
        try:
            try:
                await ws.send(json.dumps(response_body(self.endpoint, job, edit, previous)))
            except ConnectionClosed:  # the kept socket died while idle: one fresh try, with everything
                ws = await self._connect()
                await ws.send(json.dumps(response_body(self.endpoint, job, edit)))
            while True:
                try:
                    async with asyncio.timeout(self.endpoint.timeout_s):
                        raw = await ws.recv()
                except (asyncio.TimeoutError, TimeoutError):
                    raise UpstreamError("upstream_timeout", f"no event from the server within "
                                        f"{self.endpoint.timeout_s:g} s") from None
                except ConnectionClosed as exc:
                    raise UpstreamError("upstream_error", f"the server closed the socket mid-turn ({exc})") from None
                for item in parse_event(raw):
                    if item is None:
                        finished = True
                        return
                    yield item
        finally:
            if finished and len(self._idle) < IDLE_SOCKETS:
                self._idle.append(ws)  # a clean turn end: the socket serves the next turn
            else:  # stopped, redirected, failed: closing the socket cancels the turn upstream
                await ws.close()  # the close frame goes out at once; the reply is awaited briefly

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for ws in idle:
            await ws.close()
        await super().aclose()


def _key(text: str, selection: tuple[int, int], path: str | None, language: str) -> tuple:
    """What a prewarmed turn depends on: the document and the selection it holds."""
    return (hash(text), len(text), tuple(selection), path, language)


class _Refused(Exception):
    """The server answered the upgrade with a plain HTTP status: it has no WebSocket mode."""
