"""StreamMetrics against streams with known timing."""

import pytest

from app.core.metrics import StreamMetrics

from wire import DoneStats


def steady_stream(metrics: StreamMetrics, start_s: float, ttft_s: float, rate_tok_s: float, n: int):
    """One token every 1/rate seconds after a known time to first token."""
    metrics.on_request_start(start_s)
    for k in range(n):
        metrics.on_tokens(1, start_s + ttft_s + k / rate_tok_s)
    return start_s + ttft_s + (n - 1) / rate_tok_s


def test_steady_1000_tok_s_reads_1000_instant_and_average():
    metrics = StreamMetrics(window_s=0.25)
    last = steady_stream(metrics, start_s=10.0, ttft_s=0.120, rate_tok_s=1000.0, n=1001)
    assert metrics.instant_tok_s(last) == pytest.approx(1000.0, rel=0.01)
    assert metrics.average_tok_s() == pytest.approx(1000.0, rel=1e-6)
    snap = metrics.snapshot(last)
    assert snap.tokens == 1001
    assert snap.arrival_ttft_ms == pytest.approx(120.0)


def test_early_in_the_stream_the_rate_is_already_right():
    metrics = StreamMetrics(window_s=0.25)
    metrics.on_request_start(0.0)
    for k in range(51):  # 50 ms at 1,000 tok/s
        metrics.on_tokens(1, 0.5 + k / 1000)
    assert metrics.instant_tok_s(0.55) == pytest.approx(1000.0, rel=1e-6)


def test_rate_change_shows_within_one_window_and_stop_decays_to_zero():
    metrics = StreamMetrics(window_s=0.25)
    metrics.on_request_start(0.0)
    t = 0.1
    for _ in range(500):  # 500 ms at 500 tok/s
        t += 0.002
        metrics.on_tokens(1, t)
    for _ in range(100):  # then 250 ms at 2,000 tok/s, in batched events of 5
        t += 0.0025
        metrics.on_tokens(5, t)
    assert metrics.instant_tok_s(t) == pytest.approx(2000.0, rel=0.02)
    assert metrics.instant_tok_s(t + 0.3) == 0.0  # nothing arrived for longer than the window
    timeline = metrics.timeline()
    assert timeline[2][1] == pytest.approx(500.0, rel=0.05)  # 0.2-0.3 s bin
    assert timeline[-2][1] == pytest.approx(2000.0, rel=0.05)
    # the unfinished last bin is scaled by its elapsed part, not shown as a dip
    front = metrics.timeline(now_s=t)
    assert front[-1][1] == pytest.approx(2000.0, rel=0.1)


def test_ttft_client_and_engine_and_done():
    metrics = StreamMetrics()
    metrics.on_request_start(1.0)
    metrics.on_tokens(3, 1.080, draft=2)
    metrics.on_first_paint(1.095)
    metrics.on_first_paint(1.5)  # only the first paint counts
    metrics.on_tokens(4, 1.090, draft=4)
    metrics.on_done(DoneStats(ttft_ms=61.5, decode_tok_s=812.0, lag_ms=12.0))
    snap = metrics.snapshot(1.2)
    assert snap.ttft_ms == pytest.approx(95.0)
    assert snap.arrival_ttft_ms == pytest.approx(80.0)
    assert snap.engine_ttft_ms == 61.5
    assert snap.engine_tok_s == 812.0
    assert snap.draft_tokens == 6
    assert snap.lag_ms == 12.0
    assert not snap.streaming and snap.instant_tok_s == 0.0
    assert metrics.average_tok_s() == pytest.approx(400.0)  # 4 tokens in 10 ms after the first


def test_new_request_forgets_the_old_one():
    metrics = StreamMetrics()
    steady_stream(metrics, 0.0, 0.1, 100.0, 20)
    metrics.on_request_start(5.0)
    snap = metrics.snapshot(5.01)
    assert (snap.tokens, snap.ttft_ms, snap.average_tok_s, metrics.timeline()) == (0, None, None, [])


def test_bad_input_gets_clear_errors():
    metrics = StreamMetrics()
    with pytest.raises(RuntimeError, match="before on_request_start"):
        metrics.on_tokens(1, 0.0)
    metrics.on_request_start(0.0)
    with pytest.raises(ValueError, match="count >= 1"):
        metrics.on_tokens(0, 0.1)
    with pytest.raises(ValueError, match="draft <= count"):
        metrics.on_tokens(1, 0.1, draft=2)
    metrics.on_tokens(1, 0.2)
    with pytest.raises(ValueError, match="backwards"):
        metrics.on_tokens(1, 0.1)
    with pytest.raises(ValueError, match="must be > 0"):
        StreamMetrics(window_s=0)

