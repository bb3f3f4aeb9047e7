"""Sessions and requests belong to the connection that made them (in-process server, real WebSocket)."""

import asyncio
import json


from tests.engine.wsclient import client, opened, recv_until, reply, send, served



def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_another_connection_can_neither_see_nor_steer_a_session(engine):
    async def go():
        async with served(engine) as url:
            a = await opened(url, "doc1")
            b = await client(url)
            await send(a, type="generate", session="doc1", request="r1", instruction="x", max_tokens=300,
                       temperature=1.0, seed=5)
            await recv_until(a, lambda m: m["type"] == "token")
            got = {}
            for m in ({"type": "stop", "request": "r1"}, {"type": "redirect", "request": "r1", "instruction": "y"},
                      {"type": "generate", "session": "doc1", "request": "r9", "instruction": "x"},
                      {"type": "update", "session": "doc1", "text": "stolen"},
                      {"type": "measure", "session": "doc1", "instruction": "x"},
                      {"type": "close", "session": "doc1"}):
                got[m["type"]] = await reply(b, **m)
            rest = await recv_until(a, lambda m: m["type"] == "done")
            # b may use the same ids for its own session without touching a's.
            own = await reply(b, type="open", session="doc1", document={"text": "other = 1\n"})
            await a.close()
            await b.close()
            return got, rest, own

    got, rest, own = run(go())
    assert got["stop"]["code"] == "unknown_request" and got["redirect"]["code"] == "unknown_request"
    for kind in ("generate", "update", "measure", "close"):
        assert got[kind]["code"] == "unknown_session", got[kind]
    done = rest[-1]
    assert done["reason"] == "length" and done["stats"]["tokens_out"] == 300  # untouched by b
    assert not any(m["type"] == "redirected" for m in rest)
    assert own["type"] == "ready" and own["session"] == "doc1"


def test_sessions_end_with_their_connection(engine):
    async def go():
        async with served(engine) as url:
            a = await opened(url, "mine")
            await send(a, type="generate", session="mine", request="long", instruction="x", max_tokens=3000,
                       temperature=1.0, seed=1)
            await recv_until(a, lambda m: m["type"] == "token")
            assert any(key.endswith("/mine") for key in engine.sessions)
            await a.close()
            for _ in range(500):  # condition wait: the server notices the close and cleans up
                if not engine.sessions and not engine._active:
                    break
                await asyncio.sleep(0.01)
            return dict(engine.sessions), dict(engine._active)

    sessions, active = run(go())
    assert sessions == {} and active == {}


def test_close_of_an_unknown_session_is_an_error(engine):
    async def go():
        async with served(engine) as url:
            a = await opened(url, "s")
            unknown = await reply(a, type="close", session="never")
            await send(a, type="close", session="s")
            again = await reply(a, type="close", session="s")
            await a.close()
            return unknown, again

    unknown, again = run(go())
    assert unknown["code"] == "unknown_session" and unknown["session"] == "never"
    assert again["code"] == "unknown_session"
