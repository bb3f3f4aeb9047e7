"""The remote path's transport row of ``tessera-engine bench``, against a real local peer.

A second engine process serves the OpenAI API; the same short edit runs turn after turn through
the remote backends: the Responses WebSocket mode (one socket kept across turns), Chat
Completions with a new HTTP connection per turn (one client, keep-alive off), and Chat Completions
on a kept-alive HTTP connection. The three alternate in chunks so a change in the shared machine's load hits all
alike; the first chunk of each warms up. A turn is timed from the request to its ``done``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from ..backends.endpoints import Endpoint
from .processes import stop_process

CODE = "def area(w, h):\n    return w * h\n"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def peer_engine(model_dir: Path):
    """A second ``tessera-engine serve`` process: (HTTP base URL, its token)."""
    token = secrets.token_urlsafe(16)
    env = {**os.environ, "TESSERA_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--model", str(model_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=PROJECT_ROOT, text=True)
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("ws://"):
            raise RuntimeError(f"the peer engine did not start ({url!r})")
        yield url.replace("ws://", "http://", 1) + "/v1", token
    finally:
        stop_process(proc)


async def _model_name(base_url: str, token: str) -> str:
    import httpx2

    async with httpx2.AsyncClient(timeout=30) as client:
        r = await client.get(base_url + "/models", headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return r.json()["data"][0]["id"]


async def _turn(backend, i: int, max_tokens: int) -> float:
    from ..backends import GenerateRequest

    sid, rid = f"b{i}", f"bench-{i}"
    backend.open(sid, _document())
    t0 = time.perf_counter()
    done = None
    async for ev in backend.generate(GenerateRequest(sid, rid, "rename w to width", None, max_tokens)):
        done = ev if ev.type == "done" else done
    elapsed = time.perf_counter() - t0
    backend.close_session(sid)
    if done is None or done.reason == "error":
        raise RuntimeError(f"a bench turn failed: {done.stats.error if done else 'no done'}")
    return elapsed


def _document():
    from ..decode.session import Document

    return Document(CODE, "area.py")


async def _measure(base_url: str, token: str, turns: int, chunk: int, max_tokens: int) -> dict:
    import httpx2

    from ..backends.openai_http import ChatCompletionsBackend
    from ..backends.responses_ws import ResponsesSocketBackend

    model = await _model_name(base_url, token)
    ws = ResponsesSocketBackend(Endpoint(base_url, model, api_key=token, transport="websocket"))
    keep = ChatCompletionsBackend(Endpoint(base_url, model, api_key=token))
    # No kept-alive connections: every turn opens (and closes) its own TCP connection.
    new = ChatCompletionsBackend(Endpoint(base_url, model, api_key=token), httpx2.AsyncClient(
        timeout=60, limits=httpx2.Limits(max_keepalive_connections=0)))
    times: dict[str, list[float]] = {"ws": [], "http_new": [], "http_keepalive": []}
    i = 0
    try:
        done = -chunk  # the first chunk of each is dropped
        while done < turns:
            for name in times:
                batch = []
                for _ in range(chunk):
                    i += 1
                    backend = {"ws": ws, "http_new": new, "http_keepalive": keep}[name]
                    batch.append(await _turn(backend, i, max_tokens))
                if done >= 0:
                    times[name].extend(batch[: turns - done])
            done += chunk
        connects, transport = ws.connects, ws.transport
    finally:
        await ws.aclose()
        await keep.aclose()
        await new.aclose()
    ms = {k: round(statistics.median(v) * 1e3, 3) for k, v in times.items()}
    return {"remote_ws_turn_ms": ms["ws"], "remote_http_turn_ms": ms["http_new"],
            "remote_http_keepalive_turn_ms": ms["http_keepalive"],
            "remote_ws_vs_http_ratio": round(ms["http_new"] / ms["ws"], 3) if ms["ws"] else None,
            "remote_ws_vs_keepalive_ratio": round(ms["http_keepalive"] / ms["ws"], 3) if ms["ws"] else None,
            "remote_ws_sockets_opened": connects, "remote_ws_transport": transport,
            "remote_turns": turns, "remote_max_tokens": max_tokens}


def remote_transport_figures(model_dir: Path, turns: int, max_tokens: int = 4) -> dict:
    """Median ms per turn for each transport, and the ratios (HTTP time / WebSocket time: > 1 favours WS)."""
    with peer_engine(model_dir) as (base_url, token):
        return asyncio.run(_measure(base_url, token, turns, min(10, turns), max_tokens))
