"""Small WebSocket client helpers for engine tests: a real server, a real connection."""

from __future__ import annotations

import asyncio
import contextlib
import json

from websockets.asyncio.client import connect

from wire import PROTOCOL_VERSION
from engine.backends.onnx import OnnxBackend
from engine.serve.limits import Limits
from engine.serve.server import ServerConfig, server_port, start_server

TOKEN = "test-token"


@contextlib.asynccontextmanager
async def served(engine, **limits):
    """The engine's server in this process (this event loop), on a free port; yields its URL."""
    server = await start_server(OnnxBackend(engine), ServerConfig(token=TOKEN, limits=Limits(**limits)))
    try:
        yield f"ws://127.0.0.1:{server_port(server)}"
    finally:
        server.close()
        await server.wait_closed()


async def client(url: str, token: str = TOKEN):
    ws = await connect(url, max_size=None)
    await ws.send(json.dumps({"type": "hello", "token": token, "protocol": PROTOCOL_VERSION, "client": "test"}))
    welcome = json.loads(await ws.recv())
    assert welcome["type"] == "welcome", welcome
    return ws


async def send(ws, **msg) -> None:
    await ws.send(json.dumps(msg))


async def recv_until(ws, pred, limit: int = 20000) -> list[dict]:
    out = []
    for _ in range(limit):
        m = json.loads(await asyncio.wait_for(ws.recv(), 60))
        out.append(m)
        if pred(m):
            return out
    raise AssertionError("message never came")


async def reply(ws, **msg) -> dict:
    """Send one message and return the next frame."""
    await send(ws, **msg)
    return json.loads(await asyncio.wait_for(ws.recv(), 60))


async def opened(url: str, session: str = "s", text: str = "def f(x):\n    return x\n"):
    ws = await client(url)
    ready = await reply(ws, type="open", session=session, document={"text": text})
    assert ready["type"] == "ready", ready
    return ws
