"""Speed and latency of one streaming request, as the gauges show them.

Pure Python, no Qt. Times are seconds on one monotonic clock chosen by the caller
(``time.perf_counter()`` in the app; made-up numbers in tests).

Definitions (what the gauges promise):

- instantaneous tok/s at time t: tokens that arrived in (t - window, t] divided by the window.
  Until the stream is one window old, the window is the time since the first token, and the first
  token event itself is not counted (it ends the wait, it is not part of the decode rate).
- average tok/s: tokens after the first event divided by the time from the first to the last event;
  the decode rate, not diluted by the time to first token.
- client TTFT: request start (the click) to the first token painted. Arrival TTFT: request start to
  the first token received. Engine TTFT: what the engine reports in ``done.stats.ttft_ms``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from wire import DoneStats

DEFAULT_WINDOW_S = 0.25
DEFAULT_BIN_S = 0.1
# A request's measured average above this multiple of the engine's own rate is an arrival burst.
BURST_FACTOR = 1.5


@dataclass(frozen=True)
class MetricsSnapshot:
    """Everything the gauges draw, at one instant."""

    instant_tok_s: float  # tokens per second over the sliding window (tok/s)
    average_tok_s: float | None  # decode rate of the request so far (tok/s); None before 2 events
    tokens: int  # tokens received in this request (count)
    draft_tokens: int  # of those, accepted from speculation (count)
    ttft_ms: float | None  # click to first token painted (ms)
    arrival_ttft_ms: float | None  # click to first token received (ms)
    engine_ttft_ms: float | None  # the engine's own time to first token (ms)
    engine_tok_s: float | None  # the engine's reported rate at the end (tok/s)
    paced_tok_s: float | None  # the emulated pace the tokens were released at, when paced (tok/s)
    lag_ms: float  # how far the engine's real compute trails the emulated pace (ms)
    elapsed_s: float  # time since the request started (s)
    streaming: bool  # True between the request's start and on_done()


class StreamMetrics:
    """Collects token arrivals of the current request; one instance is reused across requests."""

    def __init__(self, window_s: float = DEFAULT_WINDOW_S, bin_s: float = DEFAULT_BIN_S):
        if not window_s > 0 or not bin_s > 0:
            raise ValueError(f"window_s and bin_s must be > 0, got {window_s}, {bin_s}")
        self.window_s = window_s  # sliding window of the instantaneous rate (s)
        self.bin_s = bin_s  # width of one timeline bin (s)
        self._reset(None)

    def _reset(self, start_s: float | None) -> None:
        self._start_s = start_s  # request start (s)
        self._first_s: float | None = None  # first token arrival (s)
        self._first_count = 0  # tokens in the first event (count)
        self._last_s: float | None = None  # latest token arrival (s)
        self._paint_s: float | None = None  # first token painted (s)
        self._tokens = 0  # tokens so far (count)
        self._draft = 0  # accepted draft tokens so far (count)
        self._window: deque[tuple[float, int]] = deque()  # (t_s, count) inside the window
        self._window_tokens = 0  # sum of counts in _window (count)
        self._bins: list[int] = []  # tokens per timeline bin (count)
        self._stats = DoneStats()  # the engine's done.stats
        self._lag_ms = 0.0  # latest reported pacing lag (ms)
        self._streaming = start_s is not None  # between request start and on_done()

    # ---- events --------------------------------------------------------------------------
    def on_request_start(self, t_s: float) -> None:
        """The user clicked: forget the previous request."""
        self._reset(float(t_s))

    def on_tokens(self, count: int, t_s: float, draft: int = 0) -> None:
        """``count`` tokens arrived at ``t_s``, ``draft`` of them from accepted speculation."""
        if self._start_s is None:
            raise RuntimeError("on_tokens() before on_request_start()")
        if count < 1 or not 0 <= draft <= count:
            raise ValueError(f"need count >= 1 and 0 <= draft <= count, got {count}, {draft}")
        if self._last_s is not None and t_s < self._last_s:
            raise ValueError(f"token times must not go backwards: {t_s} < {self._last_s}")
        if self._first_s is None:
            self._first_s, self._first_count = t_s, count
        else:
            # The first event ends the wait; it is not part of the decode rate.
            self._window.append((t_s, count))
            self._window_tokens += count
        self._last_s = t_s
        self._tokens += count
        self._draft += draft
        bin_index = max(0, int((t_s - self._start_s) / self.bin_s))
        if bin_index >= len(self._bins):
            self._bins.extend([0] * (bin_index + 1 - len(self._bins)))
        self._bins[bin_index] += count

    def on_first_paint(self, t_s: float) -> None:
        """The first token became visible; later calls are ignored."""
        if self._paint_s is None and self._start_s is not None:
            self._paint_s = float(t_s)

    def on_lag(self, lag_ms: float) -> None:
        """The engine reported how far real compute trails the emulated pace."""
        self._lag_ms = max(0.0, float(lag_ms))

    def on_done(self, stats: DoneStats | None) -> None:
        """The request ended; ``stats`` is the engine's ``done.stats`` (may be partial)."""
        self._stats = stats if stats is not None else DoneStats()
        if self._stats.lag_ms is not None:
            self.on_lag(self._stats.lag_ms)
        self._streaming = False

    # ---- readings --------------------------------------------------------------------------
    def instant_tok_s(self, now_s: float) -> float:
        if self._first_s is None:
            return 0.0
        window = self._window
        while window and window[0][0] <= now_s - self.window_s:
            self._window_tokens -= window.popleft()[1]
        span_s = min(self.window_s, now_s - self._first_s)
        return self._window_tokens / span_s if span_s > 0 else 0.0

    def average_tok_s(self) -> float | None:
        if self._first_s is None or self._last_s is None or self._last_s <= self._first_s:
            return None
        return (self._tokens - self._first_count) / (self._last_s - self._first_s)

    def timeline(self, now_s: float | None = None) -> list[tuple[float, float]]:
        """(bin start since the request started in s, tok/s in that bin) for every bin so far.

        With ``now_s`` inside the last bin while streaming, that bin's rate is over the part of
        it that has elapsed, so the line does not dip at the stream front.
        """
        series = [(i * self.bin_s, n / self.bin_s) for i, n in enumerate(self._bins)]
        if series and now_s is not None and self._streaming and self._start_s is not None:
            start_s, _ = series[-1]
            elapsed_s = now_s - self._start_s - start_s
            if 0 < elapsed_s < self.bin_s:
                series[-1] = (start_s, self._bins[-1] / elapsed_s)
        return series

    def _ms_since_start(self, t_s: float | None) -> float | None:
        if t_s is None or self._start_s is None:
            return None
        return (t_s - self._start_s) * 1000.0

    def snapshot(self, now_s: float) -> MetricsSnapshot:
        engine_ttft = self._stats.ttft_ms
        engine_tok_s = self._stats.decode_tok_s or None
        paced = self._stats.emulated_tok_s if self._stats.paced else None
        return MetricsSnapshot(
            instant_tok_s=self.instant_tok_s(now_s) if self._streaming else 0.0,
            average_tok_s=self.average_tok_s(),
            tokens=self._tokens,
            draft_tokens=self._draft,
            ttft_ms=self._ms_since_start(self._paint_s),
            arrival_ttft_ms=self._ms_since_start(self._first_s),
            engine_ttft_ms=float(engine_ttft) if isinstance(engine_ttft, (int, float)) else None,
            engine_tok_s=float(engine_tok_s) if isinstance(engine_tok_s, (int, float)) else None,
            paced_tok_s=float(paced) if isinstance(paced, (int, float)) and paced > 0 else None,
            lag_ms=self._lag_ms,
            elapsed_s=0.0 if self._start_s is None else max(0.0, now_s - self._start_s),
            streaming=self._streaming,
        )


def shown_rate(snap: MetricsSnapshot) -> float | None:
    """The one speed figure of a finished request, as the gauge's big number and the status line
    both state it: the pace the user saw.

    On an emulated profile that is the emulated pace. Otherwise it is the rate the tokens arrived
    at (after the first), unless that is far above the engine's own decode rate: tokens cannot
    arrive much faster than they were decoded, so such a figure is a burst of arrivals a few ms
    apart at the end of a fast edit, and the engine's rate is what the user saw.
    """
    if snap.paced_tok_s:
        return snap.paced_tok_s
    average = snap.average_tok_s
    if snap.engine_tok_s and (average is None or average > BURST_FACTOR * snap.engine_tok_s):
        return snap.engine_tok_s
    return average
