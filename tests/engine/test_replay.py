"""Recorded responses replay byte-identical through the backend seam, on the pacer's schedule."""

import asyncio
import json

import pytest

from engine.backends import GenerateRequest
from engine.backends.onnx import OnnxBackend
from engine.backends.replay import RECORD, REPLAY, ReplayBackend
from engine.decode.events import DoneEvent, TokenEvent
from engine.serve.explicit_timing import ExplicitTiming, parse_timing_profile, timing_profile, with_explicit_timing
from engine.model.modelspec import default_model_dir
from engine.backends.response_cache import ResponseCache
from engine.decode.session import Document, Engine, RequestError
from engine.wafer.pacer import Pacer

CODE = "def area(w, h):\n    print(w, h)\n    return w * h\n"


@pytest.fixture(scope="module")
def engine():
    eng = Engine(default_model_dir())
    yield eng
    eng.close()


def run(backend, rid, instruction="remove prints", profile=None, on_token=None):
    async def go():
        if "s" not in backend.engine.sessions:
            backend.open("s", Document(CODE))
        events = []
        # the model writes the whole function (no focused windows): a stream long enough to stop in
        async for ev in backend.generate(GenerateRequest("s", rid, instruction, None, 60, profile=profile, whole=True)):
            events.append(ev)
            if on_token is not None and isinstance(ev, TokenEvent):
                on_token(backend, ev)
        return events
    return asyncio.run(go())


@pytest.fixture(scope="module")
def recorded(engine, tmp_path_factory):
    path = tmp_path_factory.mktemp("cache") / "responses.json"
    live = run(ReplayBackend(OnnxBackend(engine), ResponseCache(path), RECORD), "rec")
    return path, live


def test_replay_is_byte_identical_to_the_recorded_live_run(engine, recorded):
    path, live = recorded
    done = live[-1]
    assert isinstance(done, DoneEvent) and done.stats.response_source == "recorded"
    assert "print" not in done.text and "return w * h" in done.text
    assert json.loads(path.read_text())["format"] == 1
    backend = ReplayBackend(OnnxBackend(engine), ResponseCache(path), REPLAY)
    again = run(backend, "rep")
    other = run(backend, "free", instruction="rename w to width")
    texts = lambda evs: [e.text for e in evs if isinstance(e, TokenEvent)]  # noqa: E731
    assert texts(again) == texts(live)
    assert again[-1].text.encode() == done.text.encode()
    assert again[-1].stats.response_source == "replay"
    assert again[-1].stats.tokens_out == done.stats.tokens_out
    assert other[-1].stats.response_source == "live"  # a prompt not in the cache runs live
    with pytest.raises(RequestError):
        backend.generate(GenerateRequest("nope", "x", "remove prints"))


def test_replay_releases_each_token_at_the_conditions_time(engine, recorded):
    path, live = recorded
    profile = timing_profile(ttft_ms=250.0, tok_s=40.0, jitter_ms=3.0, seed=5)
    timing = parse_timing_profile(profile)
    now = [100.0]

    async def fake_sleep(s):
        now[0] += s

    def pacing(_engine, name, job, _side, _emulate):
        assert name == profile
        pacer = Pacer(parse_timing_profile(name), clock=lambda: now[0], sleep=fake_sleep)
        pacer.start(100.0)
        return pacer.wait_release, pacer.stats

    seen = []
    backend = ReplayBackend(OnnxBackend(engine, pacing), ResponseCache(path), REPLAY)
    evs = run(backend, "paced", profile=profile, on_token=lambda b, ev: seen.append((ev.count, now[0])))
    assert evs[-1].text == live[-1].text
    counted = [t for c, t in seen if c]
    assert len(counted) == live[-1].stats.tokens_out
    for i, t in enumerate(counted):
        assert (t - 100.0) * 1000.0 == pytest.approx(timing.release_ms(i), abs=1e-6)
    assert evs[-1].stats.released_tokens == len(counted) and evs[-1].stats.profile == "explicit"


def test_stop_and_redirect_during_a_replay(engine, recorded):
    path, live = recorded
    backend = ReplayBackend(OnnxBackend(engine), ResponseCache(path), REPLAY)

    def stop_at_3(b, ev):
        if ev.index == 3:
            assert b.stop("stopped")

    def redirect_at_3(b, ev):
        if ev.index == 3:
            assert b.redirect("steered", "rename w to width") is None

    stopped = run(backend, "stopped", on_token=stop_at_3)
    steered = run(backend, "steered", on_token=redirect_at_3)
    assert stopped[-1].reason == "stop" and stopped[-1].stats.tokens_out == 4
    shown = "".join(e.text for e in live if isinstance(e, TokenEvent) and e.index < 4)
    assert stopped[-1].text == shown
    assert "redirected" in [e.type for e in steered] and steered[-1].stats.response_source == "replay+live"
    assert steered[-1].text.startswith(shown)
    assert backend.knows("stopped") and not backend.knows("never")

    async def after_stop():  # a redirect after the replay ended continues live from what was shown
        events = [ev async for ev in backend.redirect("stopped", "rename w to width")]
        return events
    more = asyncio.run(after_stop())
    assert more[-1].text.startswith(shown) and more[-1].stats.response_source == "replay+live"


def test_explicit_timing_is_seeded_and_monotone():
    a = parse_timing_profile(timing_profile(300, 50, 5, seed=3))
    b = ExplicitTiming(300, 50, 5, seed=3)
    times = [a.release_ms(i) for i in range(600)]
    assert times == [b.release_ms(i) for i in range(600)]
    assert times[0] == 300 and all(y >= x for x, y in zip(times, times[1:]))
    assert times[-1] - times[0] == pytest.approx(599 * 20.0, rel=0.05)
    assert ExplicitTiming(300, 50, 0).release_ms(10) == pytest.approx(500.0)
    for bad in ("timing:{", "timing:[]", 'timing:{"tok_s": 5}', 'timing:{"ttft_ms": 1, "tok_s": 0}',
                'timing:{"ttft_ms": 1, "tok_s": 5, "x": 1}'):
        with pytest.raises(ValueError):
            parse_timing_profile(bad)
    # Other profiles go on to the wrapped factory unchanged.
    calls = []
    wrapped = with_explicit_timing(lambda *a: calls.append(a) or (None, None))
    wrapped(None, "wse-3", None, None, "llama-3.1-8b")
    assert calls and calls[0][1] == "wse-3"
