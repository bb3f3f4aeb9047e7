"""The real engine process over a real WebSocket."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from wire import PROTOCOL_VERSION

DOC = "def total(xs):\n    s = 0\n    for x in xs:\n        print(x)\n        s += x\n    return s\n"


async def session(engine, token=None):
    ws = await connect(engine.url, max_size=None)
    await ws.send(json.dumps({"type": "hello", "token": token or engine.token, "protocol": PROTOCOL_VERSION, "client": "test"}))
    welcome = json.loads(await ws.recv())
    return ws, welcome


async def recv_until(ws, pred, limit=5000):
    out = []
    for _ in range(limit):
        m = json.loads(await asyncio.wait_for(ws.recv(), 30))
        out.append(m)
        if pred(m):
            return out
    raise AssertionError("message never came")


async def opened(engine):
    ws, welcome = await session(engine)
    assert welcome["type"] == "welcome"
    await ws.send(json.dumps({"type": "open", "session": "s", "document": {"text": DOC, "language": "python"}}))
    ready = json.loads(await ws.recv())
    assert ready["type"] == "ready" and ready["prompt_tokens"] > 0
    return ws


def run(coro):
    return asyncio.run(coro)


def test_tokens_stream_and_done_reports_stats(engine_process):
    async def go():
        ws = await opened(engine_process)
        await ws.send(json.dumps({"type": "generate", "session": "s", "request": "r1", "instruction": "remove prints",
                                  "max_tokens": 40, "temperature": 1.0, "seed": 3}))
        msgs = await recv_until(ws, lambda m: m["type"] == "done")
        await ws.close()
        return msgs

    msgs = run(go())
    tokens = [m for m in msgs if m["type"] == "token"]
    done = msgs[-1]
    assert done["reason"] == "length" and done["stats"]["tokens_out"] == 40
    assert sum(t["count"] for t in tokens) == 40
    assert "".join(t["text"] for t in tokens) == done["text"]
    assert [t["index"] for t in tokens] == sorted(t["index"] for t in tokens)
    assert done["stats"]["ttft_ms"] > 0 and done["stats"]["decode_tok_s"] > 0


def test_same_seed_gives_same_output(engine_process):
    async def once(rid):
        ws = await opened(engine_process)
        await ws.send(json.dumps({"type": "generate", "session": "s", "request": rid, "instruction": "x",
                                  "max_tokens": 30, "temperature": 1.0, "seed": 7}))
        msgs = await recv_until(ws, lambda m: m["type"] == "done")
        await ws.close()
        return msgs[-1]["text"]

    assert run(once("a")) == run(once("b"))


def test_stop_ends_the_stream_and_no_further_token_is_computed(engine_process):
    async def go():
        ws = await opened(engine_process)
        await ws.send(json.dumps({"type": "generate", "session": "s", "request": "long", "instruction": "x",
                                  "max_tokens": 3000, "temperature": 1.0, "seed": 1}))
        first = await recv_until(ws, lambda m: m["type"] == "token")
        await ws.send(json.dumps({"type": "stop", "request": "long"}))
        rest = await recv_until(ws, lambda m: m["type"] == "done")
        # The connection keeps serving after a stop.
        await ws.send(json.dumps({"type": "ping", "id": 1}))
        pong = json.loads(await ws.recv())
        await ws.close()
        return first + rest, pong

    msgs, pong = run(go())
    done = msgs[-1]
    assert done["reason"] == "stop"
    streamed = sum(m["count"] for m in msgs if m["type"] == "token")
    # Every computed token was streamed, and far fewer than requested were computed.
    assert done["stats"]["tokens_out"] == streamed < 3000
    assert pong == {"type": "pong", "id": 1}


def test_redirect_continues_with_partial_output(engine_process):
    async def go():
        ws = await opened(engine_process)
        await ws.send(json.dumps({"type": "generate", "session": "s", "request": "r", "instruction": "first",
                                  "max_tokens": 2000, "temperature": 1.0, "seed": 2}))
        got = await recv_until(ws, lambda m: m["type"] == "token" and m["index"] >= 5)
        await ws.send(json.dumps({"type": "redirect", "request": "r", "instruction": "second"}))
        got += await recv_until(ws, lambda m: m["type"] == "redirected")
        await ws.send(json.dumps({"type": "stop", "request": "r"}))
        got += await recv_until(ws, lambda m: m["type"] == "done")
        # After a stop, a redirect continues the same request from its partial output.
        await ws.send(json.dumps({"type": "redirect", "request": "r", "instruction": "third"}))
        again = await recv_until(ws, lambda m: m["type"] == "done")
        await ws.close()
        return got, again

    got, again = run(go())
    red = next(m for m in got if m["type"] == "redirected")
    assert red["instruction"] == "second" and red["index"] >= 6
    done = got[-1]
    assert done["stats"]["redirects"] == 1
    before = "".join(m["text"] for m in got if m["type"] == "token")
    assert done["text"] == before
    assert again[-1]["text"].startswith(done["text"])
    first_new = next(m for m in again if m["type"] == "token")
    assert first_new["index"] == done["stats"]["tokens_total"]


def test_wrong_token_is_refused_and_server_keeps_serving(engine_process):
    async def go():
        ws, reply = await session(engine_process, token="wrong")
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        ok, welcome = await session(engine_process)
        await ok.close()
        return reply, ws.close_code, welcome

    reply, code, welcome = run(go())
    assert reply["type"] == "error" and reply["code"] == "unauthorized"
    assert code == 1008
    assert welcome["type"] == "welcome"


def test_foreign_origin_is_refused(engine_process):
    async def go():
        with pytest.raises(InvalidStatus) as info:
            await connect(engine_process.url, origin="https://evil.example")
        return info.value.response.status_code

    assert run(go()) == 403


def test_malformed_json_and_bad_requests_get_errors_not_crashes(engine_process):
    async def go():
        ws = await opened(engine_process)
        replies = []
        for raw in ["{oops", json.dumps({"type": "warp"}), json.dumps({"type": "generate", "session": "nope",
                    "request": "q", "instruction": "x"}),
                    json.dumps({"type": "generate", "session": "s", "request": "q", "instruction": "x",
                                "selection": {"start": 0, "end": 10**6}})]:
            await ws.send(raw)
            replies.append(json.loads(await ws.recv()))
        await ws.send(json.dumps({"type": "ping"}))
        replies.append(json.loads(await ws.recv()))
        await ws.close()
        return replies

    replies = run(go())
    assert [r.get("code") for r in replies[:4]] == ["bad_json", "unknown_type", "unknown_session", "bad_selection"]
    assert all(r["message"] for r in replies[:4])
    assert replies[4]["type"] == "pong"


def test_oversized_frame_closes_that_connection_only(engine_process):
    async def go():
        ws = await opened(engine_process)
        await ws.send(json.dumps({"type": "update", "session": "s", "text": "x" * (9 * 1024 * 1024)}))
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        code = ws.close_code
        ok, welcome = await session(engine_process)
        await ok.close()
        return code, welcome

    code, welcome = run(go())
    assert code == 1009  # message too big
    assert welcome["type"] == "welcome"


def test_prompt_larger_than_context_gets_a_clear_error(engine_process):
    async def go():
        ws, _ = await session(engine_process)
        big = "x = 1\n" * 2000
        await ws.send(json.dumps({"type": "open", "session": "big", "document": {"text": big}}))
        await ws.recv()
        await ws.send(json.dumps({"type": "generate", "session": "big", "request": "b", "instruction": "x"}))
        msgs = await recv_until(ws, lambda m: m["type"] in ("done", "error"))
        await ws.close()
        return msgs[-1]

    done = run(go())
    assert done["reason"] == "error"
    assert done["stats"]["error"]["code"] == "context_overflow"
    assert "context" in done["stats"]["error"]["message"]


def test_errors_name_their_session_and_a_late_stop_is_not_an_error(engine_process):
    async def go():
        ws = await opened(engine_process)
        await ws.send(json.dumps({"type": "update", "session": "ghost", "text": "x"}))
        err = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "generate", "session": "s", "request": "short", "instruction": "x",
                                  "max_tokens": 3}))
        await recv_until(ws, lambda m: m["type"] == "done")
        await ws.send(json.dumps({"type": "stop", "request": "short"}))  # after it finished
        await ws.send(json.dumps({"type": "stop", "request": "never-sent"}))
        late = json.loads(await ws.recv())
        await ws.close()
        return err, late

    err, late = run(go())
    assert err["code"] == "unknown_session" and err["session"] == "ghost"
    assert late["code"] == "unknown_request" and late["request"] == "never-sent"


def _uvloop_expected() -> bool:
    import importlib.util
    import sys

    return sys.platform != "win32" and importlib.util.find_spec("uvloop") is not None


def test_the_engine_serves_on_uvloop_when_it_is_installed(engine_process):
    async def go():
        ws, welcome = await session(engine_process)
        await ws.close()
        return welcome

    assert run(go())["loop"] == ("uvloop" if _uvloop_expected() else "asyncio")


def test_the_standard_asyncio_loop_still_serves(tiny_model_dir, monkeypatch):
    from tests.conftest import EngineProcess

    monkeypatch.setenv("TESSERA_LOOP", "asyncio")
    eng = EngineProcess(tiny_model_dir)
    try:
        async def go():
            ws = await opened(eng)
            await ws.send(json.dumps({"type": "generate", "session": "s", "request": "a", "instruction": "x",
                                      "max_tokens": 12}))
            msgs = await recv_until(ws, lambda m: m["type"] == "done")
            await ws.send(json.dumps({"type": "ping", "id": "p"}))
            pong = json.loads(await ws.recv())
            await ws.close()
            return msgs, pong

        msgs, pong = run(go())
    finally:
        eng.close()
    assert msgs[-1]["stats"]["tokens_out"] == 12 == sum(m["count"] for m in msgs if m["type"] == "token")
    assert pong == {"type": "pong", "id": "p"}


def test_the_direct_send_path_steps_aside_for_flow_control():
    from websockets.protocol import State
    from websockets.server import ServerProtocol

    from engine.serve.server import FastSendConnection

    class Transport:
        def __init__(self):
            self.written = []

        def is_closing(self):
            return False

        def write(self, data):
            self.written.append(data)

    conn = object.__new__(FastSendConnection)  # only the attributes write_text_now reads
    conn.protocol = ServerProtocol(state=State.OPEN)
    conn.transport = Transport()
    conn.send_in_progress = None
    conn.debug = False
    conn.paused = True  # the write buffer is full: send() must wait for it to drain
    assert not conn.write_text_now(b'{"type":"pong"}') and conn.transport.written == []
    conn.paused = False
    assert conn.write_text_now(b'{"type":"pong"}')
    assert conn.transport.written == [b'\x81\x0f{"type":"pong"}']
    conn.protocol.state = State.CLOSING  # closing: send() raises ConnectionClosed as before
    assert not conn.write_text_now(b"{}")
