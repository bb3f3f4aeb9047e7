"""Protocol fuzzing with hypothesis against a real engine process over a real WebSocket.

Every frame is bad in a known way (or known valid); after each one a `ping` marks the end of its
replies: each bad frame must have been answered with an `error` before the `pong`, the fuzzing
connection must never be dropped, and a second client keeps editing and generating throughout
without a failed request. CI fuzzes about a thousand frames; ``TESSERA_BIG=1`` fuzzes 10,000+.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from wire import PROTOCOL_VERSION
from tests.conftest import EngineProcess

BIG = os.environ.get("TESSERA_BIG") == "1"
EXAMPLES = 700 if BIG else 45  # × about 17 frames each
DOC = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"

# Valid templates of each client message (on the fuzzing client's own session "fz").
TEMPLATES = {
    "open": {"type": "open", "session": "fz2", "document": {"text": DOC, "language": "python"}},
    "update": {"type": "update", "session": "fz", "text": DOC},
    "measure": {"type": "measure", "session": "fz", "instruction": "rename s", "selection": {"start": 0, "end": 10}},
    "generate": {"type": "generate", "session": "fz", "request": "g", "instruction": "x", "max_tokens": 4},
    "stop": {"type": "stop", "request": "never"},
    "redirect": {"type": "redirect", "request": "never", "instruction": "y"},
    "ping": {"type": "ping", "id": 1},
    "close": {"type": "close", "session": "ghost"},
    "append": {"type": "append", "session": "fz", "text": "x"},
}

json_leaf = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=12)
json_value = st.recursive(json_leaf, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
    st.text(max_size=6), kids, max_size=3), max_leaves=8)


def _wrong_kind(value):
    """JSON values of another kind than `value` (never bool-for-int confusion in the right direction)."""
    kinds = {
        str: st.integers() | st.lists(json_leaf, max_size=2) | st.dictionaries(st.text(max_size=3), json_leaf, max_size=2)
        | st.booleans(),
        int: st.text(max_size=5) | st.lists(json_leaf, max_size=2) | st.booleans() | st.floats(0.5, 9.5),
        dict: st.text(max_size=5) | st.integers() | st.lists(json_leaf, max_size=2) | st.booleans(),
    }
    return kinds[type(value)]


@st.composite
def bad_frame(draw) -> tuple[str, str | bytes]:
    """(category, frame) of a frame the engine must refuse with an `error`."""
    category = draw(st.sampled_from([
        "not_json", "not_object", "type_kind", "unknown_type", "wrong_field_type", "missing_field", "unknown_field",
        "lone_surrogate", "huge_int", "deep_nesting", "range", "unknown_session", "unknown_request", "binary",
        "stray_append", "hello_again", "emulate_path", "too_many_values"]))
    kind = draw(st.sampled_from(sorted(TEMPLATES)))
    msg = json.loads(json.dumps(TEMPLATES[kind]))
    fields = [k for k in msg if k != "type"]
    if category == "not_json":
        text = draw(st.text(max_size=40))
        try:
            json.loads(text)
            text = "{" + text
        except ValueError:
            pass
        return category, text
    if category == "not_object":
        return category, json.dumps(draw(st.lists(json_value, max_size=3) | st.integers() | st.text(max_size=8)))
    if category == "type_kind":
        msg["type"] = draw(st.integers() | st.lists(json_leaf, max_size=2) | st.dictionaries(st.text(max_size=3), json_leaf, max_size=2) | st.none())
    elif category == "unknown_type":
        msg["type"] = draw(st.text(max_size=10).filter(lambda t: t not in TEMPLATES and t != "hello"))
    elif category == "wrong_field_type":
        name = draw(st.sampled_from(fields))
        msg[name] = draw(_wrong_kind(msg[name]))
        if kind == "ping" and isinstance(msg[name], str):  # a string id is valid: make it something else
            msg[name] = [msg[name]]
        if kind == "ping" and msg[name] is None:
            msg[name] = {}
    elif category == "missing_field":
        required = [k for k in fields if not (kind == "ping" or (kind == "generate" and k == "max_tokens")
                                               or (kind == "measure" and k == "selection")
                                               or (kind == "update" and k == "text"))]
        if kind in ("ping", "update"):
            return category, json.dumps({"type": "update", "session": "fz"})  # needs text, edits or selection
        del msg[draw(st.sampled_from(required))]
    elif category == "unknown_field":
        name = draw(st.text(min_size=1, max_size=8).filter(lambda n: n not in msg and n not in (
            "edits", "selection", "parts", "model", "profile", "temperature", "top_p", "seed", "speculate",
            "emulate", "max_tokens", "id", "text", "document", "session", "request", "instruction", "path",
            "language", "token", "protocol", "client")))
        msg[name] = draw(json_leaf)
    elif category == "lone_surrogate":
        strings = [k for k in fields if isinstance(msg[k], str)]
        if not strings:
            msg["id"] = "x"
            strings = ["id"]
        name = draw(st.sampled_from(strings))
        high = draw(st.integers(0xD800, 0xDFFF))
        raw = json.dumps(msg).replace(json.dumps(msg[name]), json.dumps(msg[name])[:-1] + f"\\u{high:04x}\"", 1)
        return category, raw
    elif category == "huge_int":
        digits = draw(st.integers(21, 6000))
        raw = json.dumps(msg)[:-1] + f', "max_tokens": {"9" * digits}}}'
        return category, raw
    elif category == "deep_nesting":
        depth = draw(st.sampled_from([9, 50, 1000, 100_000]))
        raw = json.dumps(msg)[:-1] + ', "selection": ' + "[" * depth + "]" * depth + "}"
        return category, raw
    elif category == "range":
        msg = {"type": "generate", "session": "fz", "request": "rg", "instruction": "x"}
        field, value = draw(st.sampled_from([
            ("seed", -1), ("seed", 2**63), ("temperature", 1e-320), ("temperature", -0.5), ("temperature", 11.0),
            ("top_p", 0), ("top_p", 1.5), ("max_tokens", 0), ("max_tokens", 2**21),
            ("selection", {"start": 5, "end": 2}), ("selection", {"start": -1, "end": 2}),
            ("selection", {"start": 0, "end": 10**9})]))
        msg[field] = value
    elif category == "unknown_session":
        kind = draw(st.sampled_from(["update", "measure", "generate", "close", "append"]))
        msg = json.loads(json.dumps(TEMPLATES[kind]))
        msg["session"] = "ghost-" + draw(st.text(min_size=1, max_size=6))
    elif category == "unknown_request":
        kind = draw(st.sampled_from(["stop", "redirect"]))
        msg = json.loads(json.dumps(TEMPLATES[kind]))
        msg["request"] = "nobody-" + draw(st.text(min_size=1, max_size=6))
    elif category == "binary":
        return category, draw(st.binary(max_size=30))
    elif category == "stray_append":
        msg = dict(TEMPLATES["append"])
    elif category == "hello_again":
        msg = {"type": "hello", "token": draw(st.text(max_size=10))}
    elif category == "emulate_path":
        msg = {"type": "generate", "session": "fz", "request": "e", "instruction": "x", "profile": "wse-3",
               "emulate": draw(st.sampled_from(["/etc/passwd", "../config.json", "resources/models/tiny-random/config.json"]))}
    elif category == "too_many_values":
        msg = {"type": "ping", "id": 1, "pad": [0] * draw(st.integers(3000, 5000))}
    return category, json.dumps(msg)


@st.composite
def valid_frame(draw) -> tuple[str, str]:
    kind = draw(st.sampled_from(["ping", "measure", "update", "generate"]))
    if kind == "ping":
        return "valid", json.dumps({"type": "ping", "id": draw(st.text(max_size=10))})
    if kind == "measure":
        end = draw(st.integers(0, len(DOC)))
        return "valid", json.dumps({"type": "measure", "session": "fz", "instruction": draw(st.text(min_size=1, max_size=30)),
                                    "selection": {"start": draw(st.integers(0, end)), "end": end}})
    if kind == "update":
        return "valid", json.dumps({"type": "update", "session": "fz", "text": DOC + draw(st.text(max_size=40))})
    return "valid", json.dumps({"type": "generate", "session": "fz", "request": f"v{draw(st.integers(0, 10**9))}",
                                "instruction": "x", "max_tokens": draw(st.integers(1, 6))})


class Fuzzer:
    def __init__(self, engine: EngineProcess):
        self.engine = engine
        self.frames = self.dropped = self.unanswered = 0
        self.categories: dict[str, int] = {}
        self.marker = 0
        self.exits = contextlib.ExitStack()
        self.ws = self._connect()

    def _connect(self):
        ws = self.exits.enter_context(connect(self.engine.url, max_size=None, open_timeout=30))
        ws.send(json.dumps({"type": "hello", "token": self.engine.token, "protocol": PROTOCOL_VERSION,
                            "client": "fuzz"}))
        assert json.loads(ws.recv(timeout=30))["type"] == "welcome"
        ws.send(json.dumps({"type": "open", "session": "fz", "document": {"text": DOC}}))
        while json.loads(ws.recv(timeout=60))["type"] != "ready":
            pass
        return ws

    def send(self, category: str, frame) -> None:
        self.frames += 1
        self.categories[category] = self.categories.get(category, 0) + 1
        self.marker += 1
        try:
            self.ws.send(frame)
            self.ws.send(json.dumps({"type": "ping", "id": self.marker}))
            errors = 0
            while True:
                m = json.loads(self.ws.recv(timeout=60))
                if m["type"] == "error":
                    errors += 1
                if m["type"] == "pong" and m["id"] == self.marker:
                    break
        except ConnectionClosed:
            self.dropped += 1
            self.ws = self._connect()
            return
        if category != "valid" and errors == 0:
            self.unanswered += 1
            raise AssertionError(f"no error for a {category} frame: {frame[:200]!r}")


class Editor(threading.Thread):
    """A well-behaved second client: edits, generates and stops for as long as the fuzzing runs."""

    def __init__(self, engine: EngineProcess):
        super().__init__(daemon=True)
        self.engine = engine
        self.halt = threading.Event()
        self.requests = self.finished = self.dropped = self.failures = 0

    def run(self) -> None:
        try:
            with connect(self.engine.url, max_size=None, open_timeout=30) as ws:
                self._edit(ws)
        except ConnectionClosed:
            self.dropped += 1
        except Exception:
            self.failures += 1

    def _edit(self, ws) -> None:
        ws.send(json.dumps({"type": "hello", "token": self.engine.token, "protocol": PROTOCOL_VERSION,
                            "client": "editor"}))
        ws.recv(timeout=30)
        ws.send(json.dumps({"type": "open", "session": "ed", "document": {"text": DOC}}))
        ws.recv(timeout=60)
        i = 0
        while not self.halt.is_set():
            i += 1
            ws.send(json.dumps({"type": "update", "session": "ed", "text": DOC + f"# edit {i}\n"}))
            rid = f"e{i}"
            ws.send(json.dumps({"type": "generate", "session": "ed", "request": rid, "instruction": "x",
                                "max_tokens": 12, "temperature": 1.0, "seed": i}))
            if i % 3 == 0:
                ws.send(json.dumps({"type": "stop", "request": rid}))
            self.requests += 1
            while True:
                m = json.loads(ws.recv(timeout=60))
                if m["type"] == "error":
                    self.failures += 1
                if m.get("request") == rid and m["type"] in ("done", "error"):
                    self.finished += 1
                    break


@pytest.fixture(scope="module")
def fuzz_engine(tiny_model_dir):
    eng = EngineProcess(tiny_model_dir)
    yield eng
    eng.close()


# websockets draws its frame masks from `random`, which hypothesis notices and warns about.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_fuzzed_frames_are_each_answered_and_no_connection_drops(fuzz_engine):
    fuzzer = Fuzzer(fuzz_engine)
    editor = Editor(fuzz_engine)
    editor.start()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(st.lists(st.one_of(bad_frame(), bad_frame(), bad_frame(), valid_frame()), min_size=10, max_size=40))
    def fuzz(frames):
        for category, frame in frames:
            fuzzer.send(category, frame)

    try:
        fuzz()
    finally:
        editor.halt.set()
        editor.join(120)
        fuzzer.exits.close()
    print(f"\nfuzzed {fuzzer.frames} frames ({len(fuzzer.categories)} categories: {fuzzer.categories}); "
          f"editor: {editor.finished}/{editor.requests} requests ended")
    assert fuzz_engine.proc.poll() is None  # the engine process is alive
    assert fuzzer.dropped == 0 and fuzzer.unanswered == 0
    assert editor.dropped == 0 and editor.failures == 0 and editor.finished == editor.requests > 0
    assert fuzzer.frames >= (10_000 if BIG else 400)
    assert len(fuzzer.categories) >= 18
