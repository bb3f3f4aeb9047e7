"""Every reply of a real engine process names what it answers: `id` or `request`, for each type."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

import wire
from engine.model.modelspec import MODELS_DIR
from tests.conftest import EngineProcess

SOURCE = "def area(w, h):\n    print('debug', w)\n    return w * h\n" * 3


async def _next(ws, pred) -> list[dict]:
    """Frames up to and including the first one `pred` accepts."""
    seen = []
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
        seen.append(msg)
        if pred(msg):
            return seen


async def _direct_replies(url: str, token: str) -> list[tuple[dict, str]]:
    """(reply, the id it must echo) for every kind of direct reply."""
    out = []
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps(wire.Hello(token, protocol=wire.PROTOCOL_VERSION, id="h1").to_message()))
        out.append((json.loads(await ws.recv()), "h1"))
        half = len(SOURCE) // 2  # a document in two parts: the `ready` answers the `open`
        await ws.send(json.dumps(wire.Open("s", wire.Document(SOURCE[:half]), parts=2, id="m1").to_message()))
        await ws.send(json.dumps(wire.Append("s", SOURCE[half:], id="m1").to_message()))
        out.append(((await _next(ws, lambda m: m.get("id") == "m1"))[-1], "m1"))
        await ws.send(json.dumps(wire.Update("s", text=SOURCE + "\n", id="m2").to_message()))
        await ws.send(json.dumps(wire.Measure("s", "remove prints", wire.Selection(0, 40), id="m3").to_message()))
        await ws.send(json.dumps(wire.Ping(id="p1").to_message()))
        await ws.send(json.dumps(wire.Close("nobody", id="m4").to_message()))  # refused: no such session
        await ws.send(json.dumps({"type": "measure", "session": "s", "instruction": 5, "id": "m5"}))  # malformed
        replies = await _next(ws, lambda m: m.get("id") == "m5")
        replies += await _next(ws, lambda m: m.get("type") == "measured")
        by_id = {m.get("id"): m for m in replies}
        out += [(by_id[i], i) for i in ("m2", "m3", "p1", "m4", "m5")]
    return out


async def _stream_replies(url: str, token: str, instruction: str, **options) -> list[dict]:
    """Every frame of one generation that a redirect steers after its first tokens."""
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps(wire.Hello(token, protocol=wire.PROTOCOL_VERSION).to_message()))
        await ws.recv()
        await ws.send(json.dumps(wire.Open("s", wire.Document(SOURCE), id="o").to_message()))
        await _next(ws, lambda m: m.get("id") == "o")
        await ws.send(json.dumps(wire.Generate("s", "r1", instruction, wire.Selection(0, len(SOURCE)),
                                               **options).to_message()))
        frames = await _next(ws, lambda m: m["type"] == "token" or m["type"] == "done")
        if frames[-1]["type"] == "token":
            await ws.send(json.dumps(wire.Redirect("r1", "remove prints").to_message()))
            frames += await _next(ws, lambda m: m["type"] == "done" and m["reason"] != "redirect")
        await ws.send(json.dumps(wire.Generate("s", "r2", "x", wire.Selection(0, 10 ** 6)).to_message()))
        frames += await _next(ws, lambda m: m.get("request") == "r2")  # refused: outside the document
        return frames


@pytest.fixture(scope="module")
def skilled_engine():
    """The bundled model, which declares its skills: an instruction outside them gets a notice."""
    eng = EngineProcess(MODELS_DIR / "tessera-edit-mini")
    yield eng
    eng.close()


def test_every_reply_type_carries_the_id_of_what_it_answers(engine_process, skilled_engine):
    direct = asyncio.run(_direct_replies(engine_process.url, engine_process.token))
    for reply, expected in direct:
        assert reply.get("id") == expected, reply
    assert [r["type"] for r, _ in direct] == ["welcome", "ready", "ready", "measured", "pong", "error", "error"]

    paced = asyncio.run(_stream_replies(engine_process.url, engine_process.token, "add a docstring",
                                        max_tokens=400, seed=3, temperature=1.0, profile="wse-3"))
    scoped = asyncio.run(_stream_replies(skilled_engine.url, skilled_engine.token, "translate this to rust"))
    stream = paced + scoped
    for frame in stream:
        assert frame.get("request") in ("r1", "r2"), frame
    assert stream[-1]["type"] == "error" and stream[-1]["request"] == "r2"
    seen = {r["type"] for r, _ in direct} | {f["type"] for f in stream}
    assert seen == {cls.type for cls in wire.ENGINE_MESSAGES}, {cls.type for cls in wire.ENGINE_MESSAGES} - seen
