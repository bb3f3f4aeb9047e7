"""Stop and redirect are exact, including in the same write as their `generate`.

CI runs a few dozen stops; ``TESSERA_BIG=1`` runs 200 (the figure in the README).
"""

import asyncio
import json
import os
import random


from tests.engine.wsclient import opened, recv_until, send, served

BIG = os.environ.get("TESSERA_BIG") == "1"
STOPS = 200 if BIG else 40



def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 600))


async def _drain_to_pong(ws, pid):
    await send(ws, type="ping", id=pid)
    return await recv_until(ws, lambda m: m["type"] == "pong" and m["id"] == pid)


def test_every_stop_right_after_generate_is_honoured_and_nothing_computed_after_it_is_sent(engine):
    rng = random.Random(7)

    async def go():
        results = []
        async with served(engine) as url:
            ws = await opened(url, "s", "def total(xs):\n    return sum(xs)\n" * 4)
            for i in range(STOPS):
                rid = f"r{i}"
                mode = i % 3
                await send(ws, type="generate", session="s", request=rid, instruction="x", max_tokens=3000,
                           temperature=1.0, seed=i)
                msgs = []
                if mode == 1:  # after the first token
                    msgs = await recv_until(ws, lambda m: m.get("request") == rid and m["type"] == "token")
                elif mode == 2:  # after a random handful of tokens
                    want = rng.randint(2, 40)
                    msgs = await recv_until(ws, lambda m: m.get("request") == rid and (
                        m["type"] == "token" and m["index"] + m["count"] >= want or m["type"] == "done"))
                await send(ws, type="stop", request=rid)  # mode 0: same write as the generate
                msgs += await recv_until(ws, lambda m: m.get("request") == rid and m["type"] == "done")
                msgs += await _drain_to_pong(ws, f"p{i}")
                results.append((mode, msgs))
            await ws.close()
        return results

    results = run(go())
    ignored = after_stop = 0
    for mode, msgs in results:
        done_at = next(i for i, m in enumerate(msgs) if m["type"] == "done")
        done = msgs[done_at]
        tokens = [m for m in msgs[:done_at] if m["type"] == "token"]
        assert not any(m["type"] == "token" for m in msgs[done_at:]), "a token after done"
        assert not any(m["type"] == "error" for m in msgs), msgs
        if done["reason"] != "stop" or done["stats"]["tokens_out"] >= 3000:
            ignored += 1
            continue
        stop_ms = done["stats"]["stop_ms"]
        after_stop += sum(1 for t in tokens if t["t_compute_ms"] > stop_ms)
        # done describes exactly what was sent: a later redirect continues from what the user saw
        assert done["stats"]["tokens_out"] == sum(t["count"] for t in tokens)
        assert done["text"] == "".join(t["text"] for t in tokens)
        if mode == 0:
            assert done["stats"]["tokens_out"] <= 40  # the stop was read before the stream could run far
    print(f"\n{len(results)} stops right after generate: {len(results) - ignored} honoured, {ignored} ignored, "
          f"{after_stop} tokens computed after the stop sent")
    assert ignored == 0 and after_stop == 0


def test_generate_and_redirect_in_one_write_behave_as_a_redirect(engine):
    async def go():
        out = []
        async with served(engine) as url:
            ws = await opened(url, "s")
            for i in range(10):
                rid = f"g{i}"
                await send(ws, type="generate", session="s", request=rid, instruction="first", max_tokens=30,
                           temperature=1.0, seed=i)
                await send(ws, type="redirect", request=rid, instruction="second")
                msgs = await recv_until(ws, lambda m: m.get("request") == rid and m["type"] == "done")
                msgs += await _drain_to_pong(ws, f"p{i}")
                out.append(msgs)
            await ws.close()
        return out

    for msgs in run(go()):
        kinds = [m["type"] for m in msgs]
        assert "error" not in kinds, msgs
        assert kinds.count("done") == 1 and kinds.count("redirected") == 1
        red = next(m for m in msgs if m["type"] == "redirected")
        assert red["instruction"] == "second"
        done = next(m for m in msgs if m["type"] == "done")
        assert done["stats"]["redirects"] == 1
        assert done["text"] == "".join(m["text"] for m in msgs if m["type"] == "token")


def test_a_redirect_after_a_stop_continues_the_request(engine):
    async def go():
        async with served(engine) as url:
            ws = await opened(url, "s")
            await send(ws, type="generate", session="s", request="r", instruction="first", max_tokens=2000,
                       temperature=1.0, seed=3)
            first = await recv_until(ws, lambda m: m["type"] == "token")
            await send(ws, type="stop", request="r")
            await send(ws, type="redirect", request="r", instruction="second")
            msgs = first + await recv_until(ws, lambda m: m["type"] == "done")
            later = await recv_until(ws, lambda m: m["type"] == "done")
            await ws.close()
            return msgs, later

    msgs, later = run(go())
    stopped = msgs[-1]
    assert stopped["reason"] == "stop"
    assert stopped["text"] == "".join(m["text"] for m in msgs if m["type"] == "token")
    assert later[-1]["text"].startswith(stopped["text"]) and later[-1]["reason"] == "length"
    assert not any(m["type"] == "error" for m in msgs + later)
