"""Reliability figures of the engine server: many clients at once, and one large document.

Used by ``benchmarks/bench_reliability.py`` (figures, timed) and by the tests (correctness only).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field

from websockets.asyncio.client import connect

from wire import MAX_PART_BYTES, PROTOCOL_VERSION

DOC = "def total(xs):\n    s = 0\n    for x in xs:\n        print(x)\n        s += x\n    return s\n" * 6


@dataclass
class ClientResult:
    requests: int = 0  # requests sent
    ended: dict = field(default_factory=dict)  # how requests ended: done reason or error code → count
    unanswered: int = 0  # requests that got neither done nor error
    tokens: int = 0  # tokens received
    dropped: bool = False  # the connection closed under the client
    seconds: float = 0.0  # wall time of the client's whole run


async def hello(url: str, token: str, name: str):
    ws = await connect(url, max_size=None)
    await ws.send(json.dumps({"type": "hello", "token": token, "protocol": PROTOCOL_VERSION, "client": name}))
    welcome = json.loads(await ws.recv())
    if welcome.get("type") != "welcome":
        raise RuntimeError(f"not welcomed: {welcome}")
    return ws


async def _until(ws, pred, timeout_s: float = 120.0) -> list[dict]:
    out = []
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
        out.append(m)
        if pred(m):
            return out


async def mixed_client(url: str, token: str, n: int, seed: int) -> ClientResult:
    """`n` mixed requests: plain, stopped early, redirected, with measures and edits between."""
    rng = random.Random(seed)
    res = ClientResult()
    t0 = time.perf_counter()
    try:
        ws = await hello(url, token, f"load{seed}")
        await ws.send(json.dumps({"type": "open", "session": "doc", "document": {"text": DOC}}))
        await _until(ws, lambda m: m["type"] in ("ready", "error"))
        for i in range(n):
            rid = f"r{i}"
            kind = rng.choice(["plain", "plain", "stop", "redirect", "edit"])
            if kind == "edit":
                await ws.send(json.dumps({"type": "update", "session": "doc", "text": DOC + f"# {i}\n"}))
                await ws.send(json.dumps({"type": "measure", "session": "doc", "instruction": "add types"}))
            res.requests += 1
            await ws.send(json.dumps({"type": "generate", "session": "doc", "request": rid, "instruction": "x",
                                      "max_tokens": rng.randint(5, 80), "temperature": 1.0, "seed": seed * 1000 + i}))
            if kind == "stop":
                await ws.send(json.dumps({"type": "stop", "request": rid}))
            elif kind == "redirect":
                await ws.send(json.dumps({"type": "redirect", "request": rid, "instruction": "y"}))
            msgs = await _until(ws, lambda m: m.get("request") == rid and m["type"] in ("done", "error"))
            end = msgs[-1]
            key = end["reason"] if end["type"] == "done" else f"error:{end['code']}"
            res.ended[key] = res.ended.get(key, 0) + 1
            res.tokens += sum(m.get("count", 0) for m in msgs if m["type"] == "token")
        await ws.close()
    except asyncio.TimeoutError:
        res.unanswered += 1
    except Exception:  # ConnectionClosed and anything else: the connection is gone
        res.dropped = True
    res.seconds = time.perf_counter() - t0
    return res


async def load_run(url: str, token: str, clients: int = 8, requests: int = 50) -> list[ClientResult]:
    return list(await asyncio.gather(*(mixed_client(url, token, requests, seed) for seed in range(clients))))


def jain_index(values: list[float]) -> float:
    """Jain's fairness index: 1.0 when all values are equal, 1/n when one takes everything."""
    if not values or not any(values):
        return 1.0
    return sum(values) ** 2 / (len(values) * sum(v * v for v in values))


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def open_in_parts(ws, session: str, text: str) -> dict:
    """Send `text` as `open` + appends of at most MAX_PART_BYTES each; return the engine's reply."""
    parts, start = [], 0
    while start < len(text):
        end = start + MAX_PART_BYTES  # ASCII here: one byte per character
        parts.append(text[start:end])
        start = end
    await ws.send(json.dumps({"type": "open", "session": session, "document": {"text": parts[0]},
                              "parts": len(parts)}))
    for part in parts[1:]:
        await ws.send(json.dumps({"type": "append", "session": session, "text": part}))
    msgs = await _until(ws, lambda m: m.get("session") == session and m["type"] in ("ready", "error"))
    return msgs[-1]


_OPENER = """
import asyncio, json, sys
from engine.bench.reliability import hello, open_in_parts

async def main(url, token, size):
    line = "    value = compute(value, other) + 1  # a line of code\\n"
    text = (line * (size // len(line) + 1))[:size]
    ws = await hello(url, token, "opener")
    print("connected", flush=True)
    sys.stdin.readline()
    reply = await open_in_parts(ws, "big", text)
    print(reply["type"], flush=True)
    await ws.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def ping_while_opening(url: str, token: str, doc_bytes: int = 7 * 2**20) -> dict:
    """Round trips of one client's pings while another client, in its own process, opens a
    `doc_bytes` document in parts (so the pinger's figures are the engine's, not the sender's)."""
    import os
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", _OPENER, url, token, str(doc_bytes),
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                env=env)
    pinger = await hello(url, token, "pinger")
    rtts: list[float] = []
    try:
        if (await proc.stdout.readline()).strip() != b"connected":
            raise RuntimeError("the opening client did not connect")
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
        t0 = time.perf_counter()
        answer = asyncio.create_task(proc.stdout.readline())
        i = 0
        while not answer.done():
            i += 1
            t = time.perf_counter()
            await pinger.send(json.dumps({"type": "ping", "id": i}))
            await _until(pinger, lambda m: m["type"] == "pong" and m["id"] == i)
            rtts.append((time.perf_counter() - t) * 1e3)
            await asyncio.wait([answer], timeout=0.002)
        ready = (await answer).decode().strip()
        open_s = time.perf_counter() - t0
    finally:
        await pinger.close()
        await proc.wait()
    rtts.sort()
    return {"doc_bytes": doc_bytes, "ready": ready, "open_s": round(open_s, 3), "pings": len(rtts),
            "ping_median_ms": round(rtts[len(rtts) // 2], 2) if rtts else None,
            "ping_max_ms": round(rtts[-1], 2) if rtts else None,
            "pings_over_50ms": sum(1 for r in rtts if r > 50.0)}
