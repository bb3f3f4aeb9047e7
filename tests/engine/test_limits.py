"""Documents in parts, per-connection limits and the pre-auth budget (in-process server, real WebSocket)."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import engine.serve.limits as limits_module
import engine.serve.connection as connection_module
from wire import MAX_PART_BYTES
from tests.engine.wsclient import TOKEN, client, opened, recv_until, reply, send, served

DOC = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"



def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_a_document_in_parts_is_the_same_document(engine):
    async def go():
        async with served(engine) as url:
            ws = await client(url)
            whole = await reply(ws, type="open", session="one", document={"text": DOC})
            await send(ws, type="open", session="parts", document={"text": DOC[:10]}, parts=3)
            await send(ws, type="append", session="parts", text=DOC[10:30])
            await send(ws, type="append", session="parts", text=DOC[30:])
            ready = json.loads(await ws.recv())  # only after the last part
            m1 = await reply(ws, type="measure", session="one", instruction="x")
            m2 = await reply(ws, type="measure", session="parts", instruction="x")
            # update in parts, then an append nobody announced
            await send(ws, type="update", session="parts", text="x = 1\n", parts=2)
            await send(ws, type="append", session="parts", text="y = 2\n")
            updated = json.loads(await ws.recv())
            stray = await reply(ws, type="append", session="parts", text="z")
            await ws.close()
            return whole, ready, m1, m2, updated, stray

    whole, ready, m1, m2, updated, stray = run(go())
    assert ready["type"] == "ready" and ready["session"] == "parts"
    assert ready["prompt_tokens"] == whole["prompt_tokens"]
    assert m1["prompt_tokens"] == m2["prompt_tokens"]
    assert updated["type"] == "ready" and updated["prompt_tokens"] == len("x = 1\ny = 2\n") + 2
    assert stray["code"] == "bad_request" and stray["session"] == "parts"


def test_a_document_past_the_limit_is_refused_once_with_a_clear_message(engine, monkeypatch):
    monkeypatch.setattr(limits_module, "MAX_DOCUMENT_BYTES", 3 * MAX_PART_BYTES)

    async def go():
        async with served(engine) as url:
            ws = await client(url)
            part = "x" * MAX_PART_BYTES
            await send(ws, type="open", session="big", document={"text": part}, parts=5)
            for _ in range(4):
                await send(ws, type="append", session="big", text=part)
            after = await recv_until(ws, lambda m: m["type"] == "error")
            pong = await reply(ws, type="ping", id="after")  # the remaining parts got no reply each
            missing = await reply(ws, type="measure", session="big", instruction="x")
            await ws.close()
            return after[-1], pong, missing

    err, pong, missing = run(go())
    assert err["code"] == "document_too_large" and err["session"] == "big" and "MiB" in err["message"]
    assert pong == {"type": "pong", "id": "after"}
    assert missing["code"] == "unknown_session"


def test_per_connection_limits_answer_with_errors(engine):
    async def go():
        async with served(engine, max_sessions=2, max_streams=1) as url:
            ws = await opened(url, "a", DOC)
            await reply(ws, type="open", session="b", document={"text": DOC})
            third = await reply(ws, type="open", session="c", document={"text": DOC})
            await send(ws, type="generate", session="a", request="r1", instruction="x", max_tokens=3000,
                       temperature=1.0, seed=1)
            await send(ws, type="generate", session="b", request="r2", instruction="x", max_tokens=5)
            second = await recv_until(ws, lambda m: m.get("request") == "r2")
            await send(ws, type="stop", request="r1")
            await recv_until(ws, lambda m: m["type"] == "done")
            await ws.close()
            return third, second[-1]

    third, second = run(go())
    assert third["code"] == "too_many_sessions"
    assert second["type"] == "error" and second["code"] == "too_many_requests"


def test_connections_past_the_cap_are_refused_and_others_keep_serving(engine):
    async def go():
        async with served(engine, max_connections=2) as url:
            a = await client(url)
            b = await client(url)
            c = await connect(url)
            refused = json.loads(await c.recv())
            with pytest.raises(ConnectionClosed):
                await c.recv()
            pong = await reply(a, type="ping", id=1)
            await a.close()
            await b.close()
            return refused, c.close_code, pong

    refused, code, pong = run(go())
    assert refused["code"] == "too_many_connections" and code == 1013
    assert pong == {"type": "pong", "id": 1}


def test_before_hello_frames_are_small_and_time_is_short(engine, monkeypatch):
    monkeypatch.setattr(connection_module, "HELLO_TIMEOUT_S", 0.3)

    async def go():
        async with served(engine) as url:
            big = await connect(url)
            await big.send(json.dumps({"type": "hello", "token": TOKEN, "pad": "x" * 10_000}))
            with pytest.raises(ConnectionClosed):
                await big.recv()
            slow = await connect(url)
            late = json.loads(await slow.recv())  # sent nothing: refused when the window closes
            ok = await client(url)  # after welcome, large frames are fine
            ready = await reply(ok, type="open", session="s", document={"text": "x = 1\n" * 20_000})
            await ok.close()
            return big.close_code, late, ready

    big_code, late, ready = run(go())
    assert big_code == 1009
    assert late["code"] == "unauthorized"
    assert ready["type"] == "ready"


def test_emulate_takes_names_only(engine):
    async def go():
        async with served(engine) as url:
            ws = await opened(url, "s")
            got = await reply(ws, type="generate", session="s", request="r", instruction="x",
                              profile="wse-3", emulate="/etc/passwd")
            await ws.close()
            return got

    got = run(go())
    assert got["code"] == "bad_request" and "llama-3.1-70b" in got["message"]


def test_a_document_far_beyond_the_context_is_refused_without_tokenizing_it_whole(engine):
    big = "value = compute(value, other) + 1\n" * 100_000  # 3.4 MB; tiny-random holds 4,096 tokens

    async def go():
        async with served(engine) as url:
            ws = await client(url)
            await send(ws, type="open", session="big", document={"text": big[:MAX_PART_BYTES]},
                       parts=-(-len(big) // MAX_PART_BYTES))
            for start in range(MAX_PART_BYTES, len(big), MAX_PART_BYTES):
                await send(ws, type="append", session="big", text=big[start:start + MAX_PART_BYTES])
            ready = await recv_until(ws, lambda m: m["type"] == "ready")
            measured = await reply(ws, type="measure", session="big", instruction="x")
            await send(ws, type="generate", session="big", request="r", instruction="x")
            done = await recv_until(ws, lambda m: m["type"] == "done")
            await ws.close()
            return ready[-1], measured, done[-1]

    ready, measured, done = run(go())
    assert ready["prompt_tokens"] > ready["context_length"] == 4096
    assert measured["fits"] is False and measured["prompt_tokens"] > 4096
    assert done["reason"] == "error" and done["stats"]["error"]["code"] == "context_overflow"
    assert "more than" in done["stats"]["error"]["message"]
