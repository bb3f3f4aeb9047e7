"""The remote backends against a second real engine process serving the OpenAI API.

The peer is ``tessera-engine serve`` on the random-weight test model (it never ends early, so a
request runs until its budget, a stop or a redirect); the backends reach it over real HTTP and a
real WebSocket, with its token as the API key.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time

import httpx2
import pytest

from wire import PROTOCOL_VERSION
from engine.backends import GenerateRequest
from engine.backends.openai_http import ChatCompletionsBackend, check_endpoint
from engine.serve.remote_cli import make_backend
from engine.backends.responses_ws import ResponsesSocketBackend
from engine.backends.endpoints import Endpoint
from engine.decode.session import Document, RequestError
from tests.conftest import ROOT, EngineProcess

CODE = "def area(w, h):\n    return w * h\n"


class LoggingPeer:
    """``tessera-engine serve --log-level info``: one stderr line per API request, with the tokens it computed."""

    def __init__(self, model_dir, log_path):
        self.token = secrets.token_urlsafe(16)
        self.log_path = log_path
        env = {**os.environ, "TESSERA_TOKEN": self.token, "PYTHONUNBUFFERED": "1"}
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--model", str(model_dir), "--log-level", "info"],
            stdout=subprocess.PIPE, stderr=self.log, env=env, cwd=ROOT, text=True)
        url = self.proc.stdout.readline().strip()
        assert url.startswith("ws://"), (url, log_path.read_text())
        self.base = url.replace("ws://", "http://", 1) + "/v1"

    def computed(self, request_hint: str = "") -> list[tuple[str, int]]:
        """(reason, tokens computed) of each finished API request so far."""
        return [(m.group(1), int(m.group(2))) for m in
                re.finditer(r" (\w+): (\d+) tokens computed", self.log_path.read_text())]

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()
        self.log.close()


@pytest.fixture(scope="module")
def logging_peer(tiny_model_dir, tmp_path_factory):
    p = LoggingPeer(tiny_model_dir, tmp_path_factory.mktemp("peer") / "stderr.log")
    yield p
    p.close()


@pytest.fixture(scope="module")
def peer(logging_peer):
    base, token = logging_peer.base, logging_peer.token
    model = httpx2.get(base + "/models", headers={"Authorization": f"Bearer {token}"}).json()["data"][0]["id"]
    return base, model, token


def wait_until(condition, timeout_s: float = 30.0):
    """Poll a condition (the peer's log is written by another process); fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def endpoint(peer, **kw) -> Endpoint:
    base, model, token = peer
    return Endpoint(kw.pop("base_url", base), kw.pop("model", model), api_key=kw.pop("api_key", token), **kw)


async def collect(events) -> tuple[list, object]:
    out = [ev async for ev in events]
    assert out[-1].type == "done" and sum(ev.type == "done" for ev in out) == 1
    return out[:-1], out[-1]


def request(rid: str, max_tokens: int | None = 12, **kw) -> GenerateRequest:
    return GenerateRequest("s", rid, kw.pop("instruction", "rename w to width"), None, max_tokens, **kw)


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize("transport", ["http", "websocket"])
def test_an_edit_streams_code_only_with_the_local_measurements(peer, transport):
    async def main():
        backend = make_backend(endpoint(peer, transport=transport))
        try:
            backend.open("s", Document(CODE, "area.py"))
            await backend.prewarm("s")
            events, done = await collect(backend.generate(request("r1")))
            return backend, events, done
        finally:
            await backend.aclose()

    backend, events, done = run(main())
    tokens = [ev for ev in events if ev.type == "token"]
    assert tokens and done.reason in ("length", "eos")
    text = "".join(ev.text for ev in tokens)
    assert done.text == text and "```" not in text and not text.startswith("area.py")
    s = done.stats
    assert s.transport == transport and s.backend == "remote"
    assert s.tokens_out >= 1 and s.ttft_ms is not None and s.ttft_ms >= s.upstream_ttft_ms
    assert s.decode_tok_s >= 0 and s.prompt_tokens and s.prompt_tokens > 0
    assert [ev.index for ev in tokens] == sorted(ev.index for ev in tokens)


def test_the_websocket_is_kept_across_turns(peer):
    async def main():
        backend = ResponsesSocketBackend(endpoint(peer, transport="websocket"))
        try:
            backend.open("s", Document(CODE, "area.py"))
            await backend.prewarm("s")  # opens the socket before the first request
            first = await collect(backend.generate(request("t1", 4)))
            second = await collect(backend.generate(request("t2", 4)))
            return backend.connects, backend.transport, first[1], second[1]
        finally:
            await backend.aclose()

    connects, transport, a, b = run(main())
    assert (connects, transport) == (1, "websocket")
    assert a.reason != "error" and b.reason != "error", (a.stats, b.stats)


def test_prewarm_sends_the_code_ahead_and_the_turn_only_the_instruction(peer):
    doc = "import math\n\n\ndef area(r):\n    return math.pi * r ** 2\n"
    start = doc.index("def area")

    async def main():
        backend = ResponsesSocketBackend(endpoint(peer, transport="websocket"))
        try:
            backend.open("s", Document(doc, "area.py"))
            backend.update("s", doc, (start, len(doc)))
            await backend.prewarm("s")  # generate: false with the code: the peer prefills it
            warm = (await collect(backend.generate(GenerateRequest("s", "w1", "rename r to radius", (start, len(doc)),
                                                                   6))))[1]
            moved = (await collect(backend.generate(GenerateRequest("s", "w2", "rename r to radius", (0, 5), 6))))[1]
            return backend.warm_turns, backend.connects, warm, moved
        finally:
            await backend.aclose()

    warm_turns, connects, warm, moved = run(main())
    assert warm_turns == 1 and connects == 1
    assert warm.reason != "error" and moved.reason != "error", (warm.stats, moved.stats)
    # The code the prewarm prefilled was reused by the warm turn; the other selection found none of it.
    assert warm.stats.cached_tokens > moved.stats.cached_tokens + 10, (warm.stats, moved.stats)


def test_predicted_outputs_are_sent_and_their_acceptance_reported(peer):
    async def main():
        backend = ChatCompletionsBackend(endpoint(peer))
        try:
            backend.open("s", Document(CODE, "area.py"))
            return await collect(backend.generate(request("p1", 24)))
        finally:
            await backend.aclose()

    _, done = run(main())
    s = done.stats
    assert s.draft_proposed_tokens > 0, s  # the peer verified the original code as a draft
    assert 0 <= s.draft_accepted_tokens <= s.draft_proposed_tokens


@pytest.mark.parametrize("transport", ["http", "websocket"])
def test_a_stop_ends_the_request_at_once_and_the_peer_stops_computing(peer, logging_peer, transport):
    budget = 3500  # the peer's model never ends early: uncancelled, it would compute all of these

    async def main():
        backend = make_backend(endpoint(peer, transport=transport))
        try:
            backend.open("s", Document(CODE, "area.py"))
            seen = []
            async for ev in backend.generate(request("x1", budget)):
                seen.append(ev)
                if ev.type == "token":
                    assert backend.stop("x1")
            return seen, backend
        finally:
            await backend.aclose()

    before = len(logging_peer.computed())
    seen, backend = run(main())
    done = seen[-1]
    assert done.type == "done" and done.reason == "stop"
    assert [ev.type for ev in seen].count("token") == 1  # nothing is shown after the stop
    assert not backend.stop("x1")  # no longer running
    wait_until(lambda: len(logging_peer.computed()) > before)
    reason, computed = logging_peer.computed()[before]
    assert reason == "stop" and computed < budget  # closing the stream or socket stopped the peer


def test_a_redirect_keeps_the_partial_output_and_continues(peer):
    async def main():
        backend = ChatCompletionsBackend(endpoint(peer))
        try:
            backend.open("s", Document(CODE, "area.py"))
            seen = []
            async for ev in backend.generate(request("d1", 40)):
                seen.append(ev)
                if ev.type == "token" and len(seen) == 1:
                    assert backend.redirect("d1", "rename h to height") is None
            return seen
        finally:
            await backend.aclose()

    seen = run(main())
    kinds = [ev.type for ev in seen]
    assert "redirected" in kinds and kinds[-1] == "done"
    cut = kinds.index("redirected")
    before = "".join(ev.text for ev in seen[:cut] if ev.type == "token")
    assert seen[cut].chars == len(before) and seen[cut].instruction == "rename h to height"
    assert seen[-1].text.startswith(before)
    assert seen[-1].stats.redirects == 1


def test_upstream_errors_end_the_stream_with_clear_codes_and_no_key(peer):
    async def one(ep: Endpoint):
        backend = ChatCompletionsBackend(ep)
        try:
            backend.open("s", Document(CODE))
            return (await collect(backend.generate(request("e1", 4))))[1]
        finally:
            await backend.aclose()

    wrong_key = run(one(endpoint(peer, api_key="sk-wrong-key-abc")))
    assert wrong_key.reason == "error" and wrong_key.stats.error.code == "upstream_unauthorized"
    assert "sk-wrong-key-abc" not in str(wrong_key.stats)
    unknown = run(one(endpoint(peer, model="no-such-model")))
    assert unknown.reason == "error" and "404" in unknown.stats.error.message
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = run(one(endpoint(peer, base_url=f"http://127.0.0.1:{port}/v1")))
    assert gone.stats.error.code == "upstream_unreachable"


def test_a_silent_server_times_out(peer):
    with socket.socket() as listener:  # accepts connections (the kernel's backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        for transport in ("http", "websocket"):
            async def main():
                backend = make_backend(endpoint(peer, base_url=f"http://127.0.0.1:{port}/v1", timeout_s=0.5,
                                                transport=transport))
                try:
                    backend.open("s", Document(CODE))
                    return (await collect(backend.generate(request("z1", 4))))[1]
                finally:
                    await backend.aclose()

            done = run(main())
            assert done.reason == "error" and done.stats.error.code == "upstream_timeout", done.stats


def test_bad_requests_are_refused_in_the_call(peer):
    backend = ChatCompletionsBackend(endpoint(peer))
    with pytest.raises(RequestError) as info:
        backend.generate(request("q"))
    assert info.value.code == "unknown_session"
    backend.open("s", Document(CODE))
    with pytest.raises(RequestError) as info:
        backend.generate(GenerateRequest("s", "q", "x", (0, 999)))
    assert info.value.code == "bad_selection"
    with pytest.raises(RequestError) as info:
        backend.redirect("never", "x")
    assert info.value.code == "unknown_request"
    assert backend.describe()["transport"] == "http" and backend.models()[0].id == peer[1]


def test_check_endpoint_tells_what_is_wrong(peer):
    ok, text = run(check_endpoint(endpoint(peer)))
    assert ok and peer[1] in text
    ok, text = run(check_endpoint(endpoint(peer, api_key="sk-nope")))
    assert not ok and "refused the key" in text
    ok, text = run(check_endpoint(endpoint(peer, model="other")))
    assert not ok and "not among" in text


def test_a_refused_upgrade_falls_back_to_http_for_good(tmp_path):
    """A plain HTTP server (the standard library's) answers the upgrade with 404: no WebSocket mode."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        async def main():
            backend = ResponsesSocketBackend(Endpoint(f"http://127.0.0.1:{server.server_port}/v1", "m",
                                                      transport="websocket", timeout_s=10))
            try:
                backend.open("s", Document(CODE))
                await backend.prewarm("s")
                done = (await collect(backend.generate(request("f1", 4))))[1]
                return backend, done
            finally:
                await backend.aclose()

        backend, done = run(main())
    finally:
        server.shutdown()
        server.server_close()
    assert backend.transport == "http" and backend.connects == 0
    # The HTTP request went out (this server cannot POST: 501), reported as the server's answer.
    assert done.stats.transport == "http" and "501" in done.stats.error.message



class RelayEngine:
    """``tessera-engine serve --endpoint PEER``: the native protocol, served through a remote backend."""

    def __init__(self, base: str, model: str, key: str, transport: str):
        self.token = secrets.token_urlsafe(16)
        env = {**os.environ, "TESSERA_TOKEN": self.token, "OPENAI_API_KEY": key, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--endpoint", base,
             "--endpoint-model", model, "--transport", transport],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True)
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("ws://"), self.proc.stderr.read() if self.proc.poll() is not None else self.url

    def close(self):
        self.proc.terminate()
        out, err = self.proc.communicate(timeout=10)
        return err


@pytest.mark.parametrize("transport", ["http", "websocket"])
def test_serve_endpoint_relays_the_native_protocol(peer, transport):
    from websockets.asyncio.client import connect

    base, model, key = peer
    relay = RelayEngine(base, model, key, transport)

    async def main():
        async with connect(relay.url) as ws:
            await ws.send(json.dumps({"type": "hello", "token": relay.token, "protocol": PROTOCOL_VERSION, "client": "test"}))
            welcome = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "open", "session": "s",
                                      "document": {"text": CODE, "path": "area.py", "language": "python"}}))
            ready = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "generate", "session": "s", "request": "n1",
                                      "instruction": "rename w to width", "max_tokens": 8}))
            msgs = []
            while not msgs or msgs[-1]["type"] != "done":
                msgs.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
            return welcome, ready, msgs

    try:
        welcome, ready, msgs = run(main())
    finally:
        err = relay.close()
    assert welcome["model"]["backend"] == "remote" and welcome["model"]["transport"] == transport
    assert ready["type"] == "ready" and ready["context_length"] == welcome["model"]["context_length"]
    done = msgs[-1]
    assert done["reason"] in ("length", "eos") and done["stats"]["transport"] == transport
    assert "".join(m["text"] for m in msgs if m["type"] == "token") == done["text"]
    assert key not in err  # the key never reaches the log
