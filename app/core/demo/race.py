"""Race mode's pure parts: lane specs, each lane's figures on the engine's clock, the margin. No Qt.

A race runs the same edit in two or three lanes at once, each under its own pacing (a hardware
profile paired with an emulated model shape, or real speed on this machine). Every figure a lane
shows is computed from the times the engine stamps on its events (`t_emit_ms`: ms from the
request's arrival to the token's release), so the lanes are compared on one definition and a
test can feed made-up times.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from wire import DoneStats

LOCAL = "local"
LIVE_WINDOW_MS = 250.0  # the live tok/s counts the tokens released in the last quarter second

MODEL_LABELS = {"llama-3.1-8b": "Llama 3.1 8B", "llama-3.1-70b": "Llama 3.1 70B",
                "llama-3.1-405b": "Llama 3.1 405B", "qwen2-72b": "Qwen2 72B", "qwen3-32b": "Qwen3 32B",
                "qwen3-coder-480b-a35b": "Qwen3-Coder 480B", "gpt-oss-120b": "gpt-oss-120b",
                "deepseek-v3": "DeepSeek-V3", "llama-4-maverick": "Llama 4 Maverick"}
HARDWARE_LABELS = {"wse-3": "Cerebras WSE-3", "wse-2": "Cerebras WSE-2", "h100": "1× H100",
                   "h100x8": "8× H100", "h200": "1× H200", "h200x8": "8× H200", "b200x8": "8× B200",
                   "gb200nvl72": "GB200 NVL72",
                   LOCAL: "this machine"}


@dataclass(frozen=True)
class LaneSpec:
    """One lane of a race: what it is called and how the engine paces it."""

    label: str  # headline over the lane, e.g. "Llama 3.1 70B on 8× H100"
    profile: str = LOCAL  # engine hardware profile; "local" = real speed, no pacing
    emulate: str | None = None  # model shape the profile emulates (preset); None = the loaded model

    @property
    def paced(self) -> bool:
        return self.profile not in ("", LOCAL)

    def provenance(self) -> str:
        """The honest line under the label: emulated (from which profile and shape) or real."""
        if not self.paced:
            return "real speed of the bundled model on this machine (not emulated)"
        shape = f"model shape {self.emulate}" if self.emulate else "the loaded model's shape"
        return f"EMULATED · hardware profile {self.profile} · {shape}"


def lane_label(profile: str, emulate: str | None) -> str:
    hardware = HARDWARE_LABELS.get(profile, profile)
    if not emulate:
        return f"Bundled model on {hardware}"
    return f"{MODEL_LABELS.get(emulate, emulate)} on {hardware}"


def parse_lanes(text: str) -> tuple[LaneSpec, ...]:
    """Lanes from ``PROFILE[:MODEL],PROFILE[:MODEL][,...]`` (the ``--race`` option); 2 or 3."""
    lanes = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        profile, _, emulate = part.partition(":")
        profile, emulate = profile.strip().lower(), emulate.strip().lower() or None
        lanes.append(LaneSpec(lane_label(profile, emulate), profile, emulate))
    if not 2 <= len(lanes) <= 3:
        raise ValueError(f"a race has 2 or 3 lanes, got {len(lanes)} in {text!r} "
                         "(write PROFILE[:MODEL],PROFILE[:MODEL], e.g. h100x8:llama-3.1-70b,wse-3:llama-3.1-70b)")
    return tuple(lanes)


# Expected decode speed order of the engine's profiles, fastest first. The engine computes one
# request at a time, so a race sends the fastest-paced lane first: its tight schedule gets the
# real compute first, and slower lanes' slack absorbs the wait (bench_race.py measures the lag).
SPEED_RANK = ("wse-3", "wse-2", LOCAL, "gb200nvl72", "b200x8", "h200x8", "h100x8", "h200", "h100")


def send_order(lanes: tuple[LaneSpec, ...]) -> list[int]:
    """Lane indices in the order their requests go out: fastest expected pace first."""
    rank = {name: i for i, name in enumerate(SPEED_RANK)}
    return sorted(range(len(lanes)), key=lambda i: (rank.get(lanes[i].profile, len(rank)), i))


DEFAULT_LANES = (LaneSpec(lane_label("h100x8", "llama-3.1-70b"), "h100x8", "llama-3.1-70b"),
                 LaneSpec(lane_label("wse-3", "llama-3.1-70b"), "wse-3", "llama-3.1-70b"))


@dataclass
class LaneProgress:
    """One lane's stream as the engine timed it."""

    spec: LaneSpec  # the lane
    tokens: int = 0  # tokens released so far (count)
    ttft_ms: float | None = None  # arrival → first token released (ms, engine clock)
    last_ms: float | None = None  # arrival → latest token released (ms, engine clock)
    finish_ms: float | None = None  # arrival → last token released, once done (ms, engine clock)
    reason: str | None = None  # the engine's `done` reason; None while streaming
    lag_ms: float = 0.0  # how far real compute trailed the emulated pace (ms, from the engine)
    emulated_tok_s: float | None = None  # the pace the profile promises (tok/s, from the engine)
    first_count: int = 0  # tokens in the first event, which ends the wait and is not a rate (count)
    recent: deque[tuple[float, int]] = field(default_factory=deque)  # (t_emit_ms, count), last window

    def on_token(self, count: int, t_emit_ms: float) -> None:
        if self.ttft_ms is None:
            self.ttft_ms, self.first_count = t_emit_ms, count
        self.tokens += count
        self.last_ms = t_emit_ms
        self.recent.append((t_emit_ms, count))
        while self.recent and self.recent[0][0] <= t_emit_ms - LIVE_WINDOW_MS:
            self.recent.popleft()

    def on_done(self, reason: str, stats: DoneStats) -> None:
        self.reason = reason
        self.finish_ms = self.last_ms if self.last_ms is not None else _float(stats.ttft_ms)
        self.lag_ms = _float(stats.lag_ms) or 0.0
        self.emulated_tok_s = _float(stats.emulated_tok_s)

    @property
    def finished(self) -> bool:
        return self.reason is not None

    def live_tok_s(self, now_ms: float) -> float:
        """Tokens released in the last LIVE_WINDOW_MS before ``now_ms`` (engine clock), per second."""
        if self.ttft_ms is None:
            return 0.0
        since = max(now_ms - LIVE_WINDOW_MS, self.ttft_ms)
        span_ms = now_ms - since
        counted = sum(c for t, c in self.recent if since < t <= now_ms)
        return counted * 1000.0 / span_ms if span_ms > 0 else 0.0

    def decode_tok_s(self) -> float | None:
        """Tokens after the first event over the time from the first to the last (tok/s)."""
        if self.ttft_ms is None or self.last_ms is None or self.last_ms <= self.ttft_ms:
            return None
        return (self.tokens - self.first_count) * 1000.0 / (self.last_ms - self.ttft_ms)


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def format_seconds(ms: float) -> str:
    """9.1 s, 1.9 s; below a second two decimals (0.08 s) so a fast lane never reads "0.0 s"."""
    s = ms / 1000.0
    return f"{s:.1f} s" if s >= 1 else f"{s:.2f} s"


def race_margin(lanes: list[LaneProgress]) -> str | None:
    """The winner's margin over every other lane, from finish times; None until all finished.

    Two lanes: "Cerebras WSE-3 wins: 4.6× faster, 9.1 s vs 1.9 s". With three, one clause per
    loser. A lane that was stopped or failed did not finish the edit and is not ranked.
    """
    if len(lanes) < 2 or not all(lane.finished for lane in lanes):
        return None
    ranked = sorted((lane for lane in lanes if lane.reason == "eos" and lane.finish_ms is not None),
                    key=lambda lane: lane.finish_ms)
    if len(ranked) < 2:
        return "No winner: fewer than two lanes finished the edit."
    winner, losers = ranked[0], ranked[1:]
    fast = max(winner.finish_ms, 1e-3)

    def clause(loser: LaneProgress) -> str:
        ratio = loser.finish_ms / fast
        return f"{ratio:.1f}× faster, {format_seconds(loser.finish_ms)} vs {format_seconds(winner.finish_ms)}"

    if len(losers) == 1:
        return f"{winner.spec.label} wins: {clause(losers[0])}"
    parts = [f"{loser.finish_ms / fast:.1f}× faster than {loser.spec.label} "
             f"({format_seconds(loser.finish_ms)} vs {format_seconds(winner.finish_ms)})" for loser in losers]
    return f"{winner.spec.label} wins: " + "; ".join(parts)
