"""What a user would pick instead, set up on the same weights for ``tessera-engine bench``.

- onnxruntime-genai: a genai model folder (``genai_config.json`` + our fused graph in genai's input
  convention) driven by its own ``Generator`` loop (``append_tokens``, ``generate_next_token``);
- Optimum: ``ORTModelForCausalLM.generate`` on the plain Optimum-layout graph;
- transport: a persistent WebSocket to a real ``tessera-engine serve`` vs a new HTTP connection per
  request to a real local HTTP server (both separate processes).

Every peer is optional: a missing package is reported as ``"not installed"``, never a failure.
Peers cannot feed draft ids, so they run a twin of the model without extra inputs (same weights,
extra embedding tables left out).
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from wire import PROTOCOL_VERSION

from ..model.fastgraph import FastGraphOptions, build_fast_decoder_onnx, weights_from_onnx
from ..model.graph import build_decoder_onnx
from ..model.modelspec import ModelSpec
from .processes import stop_process

ROOT = Path(__file__).resolve().parents[2]


class PeerMissing(Exception):
    """A comparison peer is not installed."""


def plain_twin(spec: ModelSpec, out: Path) -> Path:
    """A model folder with the same weights and no extra inputs, in the plain Optimum layout."""
    cfg = spec.config
    weights = weights_from_onnx(onnx.load(str(spec.onnx_path)), cfg, spec.extra_inputs)
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(build_decoder_onnx(weights, cfg, []), str(out / "model.onnx"))
    cfg.to_json(out / "config.json")
    shutil.copy(spec.folder / "tokenizer.json", out / "tokenizer.json")
    meta_path = spec.folder / "tessera.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    meta.update(extra_inputs=[], aligner=None, name=f"{spec.name}-plain")
    (out / "tessera.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out


def genai_folder(spec: ModelSpec, out: Path, eos_id: int, threads: int = 1, quant_bits: int = 0) -> Path:
    """A onnxruntime-genai model folder: our fused graph (genai inputs) + genai_config.json."""
    cfg = spec.config
    weights = weights_from_onnx(onnx.load(str(spec.onnx_path)), cfg, spec.extra_inputs)
    out.mkdir(parents=True, exist_ok=True)
    graph = build_fast_decoder_onnx(weights, cfg, [], FastGraphOptions(max_length=spec.context_length,
                                                                       quant_bits=quant_bits, interface="genai"))
    onnx.save(graph, str(out / "model.onnx"))
    length = spec.context_length
    config = {
        "model": {
            "bos_token_id": 0, "context_length": length, "eos_token_id": eos_id, "pad_token_id": eos_id,
            "type": "llama", "vocab_size": cfg.vocab_size,
            "decoder": {
                "session_options": {"log_id": "tessera-bench", "intra_op_num_threads": threads,
                                    "inter_op_num_threads": 1, "provider_options": []},
                "filename": "model.onnx", "head_size": cfg.head_dim, "hidden_size": cfg.hidden_size,
                "num_attention_heads": cfg.num_attention_heads, "num_hidden_layers": cfg.num_hidden_layers,
                "num_key_value_heads": cfg.num_key_value_heads,
                "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask",
                           "past_key_names": "past_key_values.%d.key", "past_value_names": "past_key_values.%d.value"},
                "outputs": {"logits": "logits", "present_key_names": "present.%d.key",
                            "present_value_names": "present.%d.value"},
            },
        },
        "search": {"do_sample": False, "max_length": length, "min_length": 0, "num_beams": 1,
                   "num_return_sequences": 1, "past_present_share_buffer": True, "top_k": 1, "top_p": 1.0,
                   "temperature": 1.0, "repetition_penalty": 1.0, "early_stopping": True},
    }
    (out / "genai_config.json").write_text(json.dumps(config, indent=1) + "\n")
    return out


def genai_runner(folder: Path, prompt: list[int], steps: int):
    """A callable timing one run of genai's own loop: (seconds per token, greedy tokens)."""
    try:
        import onnxruntime_genai as og
    except ImportError:
        raise PeerMissing("onnxruntime-genai") from None
    model = og.Model(str(folder))

    def run() -> tuple[float, list[int]]:
        params = og.GeneratorParams(model)
        params.set_search_options(max_length=len(prompt) + steps + 1, do_sample=False)
        gen = og.Generator(model, params)
        gen.append_tokens(np.asarray([prompt], dtype=np.int32))
        t0 = time.perf_counter()
        for _ in range(steps):
            gen.generate_next_token()
        seconds = (time.perf_counter() - t0) / steps
        return seconds, [int(t) for t in gen.get_sequence(0)[len(prompt):]]

    return run


def optimum_runner(folder: Path, prompt: list[int], steps: int, threads: int = 1):
    """A callable timing ``ORTModelForCausalLM.generate``: (t(prompt+2n) - t(prompt+n)) / n seconds."""
    try:
        import onnxruntime as ort
        import torch
        from optimum.onnxruntime import ORTModelForCausalLM
        from transformers import GenerationConfig
        from transformers.utils import logging as hf_logging
    except ImportError:
        raise PeerMissing("optimum[onnxruntime]") from None
    hf_logging.set_verbosity_error()
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    torch.set_num_threads(threads)
    model = ORTModelForCausalLM.from_pretrained(str(folder), provider="CPUExecutionProvider", session_options=so,
                                                use_cache=True, use_io_binding=False)
    ids = torch.tensor([prompt], dtype=torch.long)

    def timed(n: int) -> float:
        gc = GenerationConfig(max_new_tokens=n, min_new_tokens=n, do_sample=False, num_beams=1,
                              pad_token_id=0, eos_token_id=None, bos_token_id=None)
        t0 = time.perf_counter()
        model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=gc)
        return time.perf_counter() - t0

    def run() -> float:
        short, long = timed(steps), timed(2 * steps)
        return max(long - short, 1e-9) / steps

    return run


# -- transport ------------------------------------------------------------------------------

_HTTP_SERVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        out = json.dumps({"type": "pong", "id": json.loads(body).get("id")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


@contextlib.contextmanager
def http_endpoint():
    """A local HTTP server process; yields ``trip(i)``: one small JSON request on a new connection."""
    proc = subprocess.Popen([sys.executable, "-c", _HTTP_SERVER], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(proc.stdout.readline())

        def trip(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("POST", "/", json.dumps({"type": "ping", "id": i}),
                         {"Content-Type": "application/json", "Connection": "close"})
            json.loads(conn.getresponse().read())
            conn.close()

        yield trip
    finally:
        stop_process(proc)


class _BlockingWebSocket:
    """A minimal blocking WebSocket client: websockets' sans-I/O ``ClientProtocol`` over a plain socket.

    No event loop and no background thread, like ``http.client`` on the HTTP side: the send and the
    wait for the reply happen on the calling thread, on a plain blocking socket (as ``http.client``'s
    by default: a socket timeout would add a poll() before every send and receive). Keepalive pings
    from the server are answered (the protocol queues the pong; ``_next_event`` sends it).
    """

    def __init__(self, url: str, timeout: float = 30.0):
        uri = parse_uri(url)
        # As the app connects: no Origin header, no per-message deflate (small JSON frames gain nothing).
        self.protocol = ClientProtocol(uri, max_size=None)
        self.sock = socket.create_connection((uri.host, uri.port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(None)
        self.events: collections.deque = collections.deque()
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        response = self._next_event()
        if self.protocol.state is not State.OPEN:
            raise RuntimeError(f"WebSocket handshake refused: {getattr(response, 'status_code', response)}")

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def _next_event(self):
        while not self.events:
            data = self.sock.recv(65536)
            if data:
                self.protocol.receive_data(data)
            else:
                self.protocol.receive_eof()
            self.events.extend(self.protocol.events_received())
            self._flush()  # pongs to keepalive pings, close replies
            if not data and not self.events:
                raise ConnectionError("the engine closed the connection")
        return self.events.popleft()

    def send(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self._flush()

    def recv(self) -> str:
        """The next text message (the engine sends only small, unfragmented text frames)."""
        while True:
            opcode = getattr(event := self._next_event(), "opcode", None)
            if opcode is Opcode.TEXT:
                if not event.fin:
                    raise RuntimeError("fragmented frames are not expected from the engine")
                return event.data.decode()
            if opcode is Opcode.CLOSE:
                raise ConnectionError("the engine closed the connection")

    def close(self) -> None:
        try:
            self.protocol.send_close()
            self._flush()
        except OSError:
            pass
        self.sock.close()


@contextlib.contextmanager
def ws_endpoint(model_dir: Path, serve_args: tuple[str, ...] = ()):
    """A real ``tessera-engine serve`` process and one persistent WebSocket to it, authenticated;
    yields ``trip(i)``: one ``ping`` → ``pong``.

    Like for like with :func:`http_endpoint`: both sides use a minimal blocking client on the calling
    thread (``http.client`` there, websockets' sans-I/O protocol over a socket here), so the figure is
    the transport and the server, not a client event loop. (Measured on a shared 2-core box against
    the same server: the asyncio client and ``websockets.sync``'s client, which hands each frame over
    from a reader thread, both added 0.04–0.08 ms per round trip.)
    The engine's handshake is kept: no Origin header, ``hello`` with the token, then ``welcome``.
    """
    token = secrets.token_urlsafe(16)
    env = {**os.environ, "TESSERA_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--model", str(model_dir),
                             *serve_args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT,
                            text=True)
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("ws://"):
            raise RuntimeError("the engine did not start")
        ws = _BlockingWebSocket(url)
        try:
            ws.send(json.dumps({"type": "hello", "token": token, "protocol": PROTOCOL_VERSION, "client": "bench"}))
            welcome = json.loads(ws.recv())
            if welcome.get("type") != "welcome":
                raise RuntimeError(f"the engine refused the hello: {welcome}")

            def trip(i: int) -> None:
                ws.send(json.dumps({"type": "ping", "id": i}))
                while json.loads(ws.recv()).get("type") != "pong":
                    pass

            yield trip
        finally:
            ws.close()
    finally:
        stop_process(proc)


def round_trips(model_dir: Path, n: int, chunk: int = 25) -> dict[str, list[float]]:
    """Seconds per round trip, ``n`` each over the WebSocket, over HTTP-per-request, and over the
    WebSocket of an engine serving the native protocol alone (``--no-openai-api``: websockets owns
    the listening socket, no HTTP front), to show what the front costs the WebSocket path.

    All servers run at once and the clients alternate in chunks of ``chunk`` requests, so a change
    in the shared machine's load hits all alike; the first chunk of each warms up.
    """
    out: dict[str, list[float]] = {"ws": [], "http": [], "ws_native_only": []}
    with ws_endpoint(model_dir) as ws_trip, http_endpoint() as http_trip, \
            ws_endpoint(model_dir, ("--no-openai-api",)) as native_trip:
        trips = {"ws": ws_trip, "http": http_trip, "ws_native_only": native_trip}
        done = -chunk  # the first chunk is dropped
        while done < n:
            for name, trip in trips.items():
                times = []
                for i in range(chunk):
                    t0 = time.perf_counter()
                    trip(i)
                    times.append(time.perf_counter() - t0)
                if done >= 0:
                    out[name].extend(times[: n - done])
            done += chunk
    return out
