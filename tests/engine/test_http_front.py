"""One port for the native WebSocket protocol, HTTP and the Responses WebSocket mode."""

from __future__ import annotations

import asyncio
import json
import re
import socket

import openai
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from wire import PROTOCOL_VERSION

ASK = "Remove prints\n\n```python\ndef f(xs):\n    for x in xs:\n        print(x)\n```\n"


def address(engine) -> tuple[str, int]:
    host, port = engine.ws_url[len("ws://"):].split(":")
    return host, int(port)


def exchange(engine, raw: bytes) -> bytes:
    """Send raw bytes, read until the engine closes the connection."""
    with socket.create_connection(address(engine), timeout=30) as sock:
        sock.sendall(raw)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
        return out


def get(engine, path: str, close: bool = False) -> bytes:
    conn = "close" if close else "keep-alive"
    return (f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {engine.token}\r\n"
            f"Connection: {conn}\r\n\r\n").encode()


def test_keep_alive_and_pipelined_requests_are_answered_in_order(api):
    replies = exchange(api, get(api, "/v1/models") + get(api, "/v1/models/nope") + get(api, "/v1/models", close=True))
    assert re.findall(rb"HTTP/1.1 (\d+)", replies) == [b"200", b"404", b"200"]


def test_malformed_and_oversized_heads_get_an_error_and_a_close(api):
    assert exchange(api, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400")
    huge = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 70_000 + b"\r\n\r\n"
    assert re.match(rb"HTTP/1.1 4\d\d", exchange(api, huge))


def test_the_native_protocol_and_the_api_share_the_port(api):
    async def go():
        async with connect(api.ws_url) as ws:
            await ws.send(json.dumps({"type": "hello", "token": api.token, "protocol": PROTOCOL_VERSION}))
            welcome = json.loads(await ws.recv())
            reply = await api.async_client().models.list()  # HTTP while the WebSocket is open
            await ws.send(json.dumps({"type": "ping", "id": 7}))
            return welcome, reply, json.loads(await ws.recv())
    welcome, models, pong = asyncio.run(go())
    assert welcome["type"] == "welcome" and models.data[0].id == welcome["model"]["name"]
    assert pong == {"type": "pong", "id": 7}


def test_websocket_handshakes_on_api_paths_are_checked(api):
    async def status(path: str, **headers) -> int:
        with pytest.raises(InvalidStatus) as refused:
            await connect(api.ws_url + path, additional_headers=headers)
        return refused.value.response.status_code

    key = {"Authorization": f"Bearer {api.token}"}
    assert asyncio.run(status("/v1/responses")) == 401
    assert asyncio.run(status("/v1/chat/completions", **key)) == 404
    assert asyncio.run(status("/v1/responses", Origin="https://example.com", **key)) == 403


def test_a_client_that_gives_up_on_a_whole_response_stops_it(noisy):
    client = openai.OpenAI(base_url=noisy.base_url, api_key=noisy.token, max_retries=0, timeout=0.3)
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="tiny-random", messages=[{"role": "user", "content": ASK}],
                                       max_tokens=3900)
    line = noisy.log_line("before the client closed")
    computed = int(re.search(r"stop: (\d+) tokens computed", line).group(1))
    assert computed < 3900
