"""Paced streams through the real server: same tokens, emulated timing, lag never hidden."""

import asyncio
import json

from engine.wafer.emulation import emulation
from tests.engine.test_server import opened, recv_until


def paced_run(engine, rid, profile, emulate, max_tokens=24):
    async def go():
        ws = await opened(engine)
        msg = {"type": "generate", "session": "s", "request": rid, "instruction": "remove prints",
               "max_tokens": max_tokens, "temperature": 1.0, "seed": 9, "profile": profile}
        if emulate:
            msg["emulate"] = emulate
        await ws.send(json.dumps(msg))
        msgs = await recv_until(ws, lambda m: m["type"] == "done")
        await ws.close()
        return msgs
    return asyncio.run(go())


def test_two_profiles_give_the_same_tokens_with_their_own_timing(engine_process):
    gpu = paced_run(engine_process, "gpu", "h100x8", "llama-3.1-70b")
    wafer = paced_run(engine_process, "wafer", "wse-3", "llama-3.1-70b")
    text = lambda msgs: "".join(m["text"] for m in msgs if m["type"] == "token")  # noqa: E731
    assert text(gpu) == text(wafer) == gpu[-1]["text"]
    emu_gpu = emulation("h100x8", "llama-3.1-70b", prompt_tokens=gpu[-1]["stats"]["prompt_tokens"])
    # No token is released before the emulated hardware would have produced it.
    for m in (m for m in gpu if m["type"] == "token" and m["count"]):
        last = m["index"] + m["count"] - 1
        assert m["t_emit_ms"] >= emu_gpu.release_ms(last) - 1.0
    g, w = gpu[-1]["stats"], wafer[-1]["stats"]
    assert g["profile"] == "h100x8" and w["profile"] == "wse-3"
    assert w["emulated_tok_s"] > 3 * g["emulated_tok_s"]
    # The last token reaches the client no earlier than the emulated cluster would produce it.
    last_gpu = [m for m in gpu if m["type"] == "token"][-1]
    assert last_gpu["t_emit_ms"] >= emu_gpu.release_ms(23) - 1.0
    tiles = [m for m in wafer if m["type"] == "tiles"]
    assert "layout" in tiles[0] and any("frame" in m for m in tiles)


def test_lag_is_reported_when_compute_is_slower_than_the_emulation(engine_process):
    # A 4-layer toy shape on a whole wafer is emulated far faster than this CPU computes it.
    msgs = paced_run(engine_process, "lag", "wse-3", None)
    stats = msgs[-1]["stats"]
    assert stats["paced"] is True
    assert stats["lag_ms"] > 0 and stats["late_tokens"] > 0
    assert msgs[-1]["text"]  # tokens still went out, as soon as they existed


def test_stop_during_a_paced_stream_ends_it_at_what_was_shown(engine_process):
    from tests.engine.test_server import opened, recv_until

    async def go():
        ws = await opened(engine_process)
        await ws.send(json.dumps({"type": "generate", "session": "s", "request": "slow", "instruction": "x",
                                  "max_tokens": 400, "temperature": 1.0, "seed": 4, "profile": "h100x8",
                                  "emulate": "llama-3.1-405b"}))
        shown = await recv_until(ws, lambda m: m["type"] == "token" and m["index"] >= 2)
        await ws.send(json.dumps({"type": "stop", "request": "slow"}))
        rest = await recv_until(ws, lambda m: m["type"] == "done")
        await ws.close()
        return shown + rest

    msgs = asyncio.run(go())
    tokens = [m for m in msgs if m["type"] == "token"]
    done = msgs[-1]
    assert done["reason"] == "stop"
    # Tokens arrive one at a time at the emulated pace, and the stop cuts the stream there:
    # far fewer than 400 were shown, and the output is exactly what was shown.
    assert all(t["count"] <= 1 for t in tokens)
    assert done["stats"]["tokens_out"] == sum(t["count"] for t in tokens) < 100
    assert done["text"] == "".join(t["text"] for t in tokens)


def test_a_redirect_after_a_stop_keeps_the_pacing(engine_process):
    from tests.engine.test_server import opened, recv_until

    async def go():
        ws = await opened(engine_process)
        await ws.send(json.dumps({"type": "generate", "session": "s", "request": "p", "instruction": "x",
                                  "max_tokens": 12, "temperature": 1.0, "seed": 4, "profile": "h100x8",
                                  "emulate": "llama-3.1-405b"}))
        await recv_until(ws, lambda m: m["type"] == "token")
        await ws.send(json.dumps({"type": "stop", "request": "p"}))
        await recv_until(ws, lambda m: m["type"] == "done")
        await ws.send(json.dumps({"type": "redirect", "request": "p", "instruction": "y"}))
        again = await recv_until(ws, lambda m: m["type"] == "done")
        await ws.close()
        return again[-1]

    done = asyncio.run(go())
    assert done["stats"]["profile"] == "h100x8" and done["stats"]["paced"] is True


def test_a_redirect_during_a_paced_stream_continues_from_what_was_shown(engine_process):
    from tests.engine.test_server import opened, recv_until

    async def go():
        ws = await opened(engine_process)
        # Paced at about 75 tok/s while this CPU computes the whole budget in a fraction of that:
        # the computation is over long before the pacer has shown the tokens.
        await ws.send(json.dumps({"type": "generate", "session": "s", "request": "steer", "instruction": "x",
                                  "max_tokens": 60, "temperature": 1.0, "seed": 4, "profile": "h100x8",
                                  "emulate": "llama-3.1-70b"}))
        shown = await recv_until(ws, lambda m: m["type"] == "token" and m["index"] >= 3)
        await ws.send(json.dumps({"type": "redirect", "request": "steer", "instruction": "y"}))
        rest = await recv_until(ws, lambda m: m["type"] == "done")
        await ws.close()
        return shown, rest

    shown, rest = asyncio.run(go())
    redirected = [m for m in rest if m["type"] == "redirected"]
    assert len(redirected) == 1  # the steer took effect mid-stream, not after the last paced token
    at = redirected[0]
    before = [m for m in shown + rest if m["type"] == "token" and m["index"] < at["index"]]
    # The redirect continues from exactly the tokens the client had seen when it steered...
    assert at["index"] == sum(m["count"] for m in before) < 60
    done = rest[-1]
    assert done["type"] == "done" and len([m for m in rest if m["type"] == "done"]) == 1
    # ...and the final text is what was shown before it plus what came after, nothing dropped.
    assert done["text"] == "".join(m["text"] for m in shown + rest if m["type"] == "token")
    assert done["stats"]["tokens_out"] == sum(m["count"] for m in shown + rest if m["type"] == "token")
