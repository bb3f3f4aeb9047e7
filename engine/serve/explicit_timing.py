"""Pacing from explicit numbers: a time to first token, a decode speed and a jitter.

A study may hold TTFT and tok/s fixed instead of naming hardware. The profile string carries the
numbers (``timing:{"ttft_ms": 300, "tok_s": 50, "jitter_ms": 4, "seed": 7}``), so the protocol
and the server stay as they are: `with_explicit_timing` wraps the ONNX backend's pacing factory and
hands every other profile on unchanged. The real `Pacer` releases the tokens.

Jitter: each gap between tokens is ``1000 / tok_s`` ms plus a normal deviate of standard
deviation ``jitter_ms`` (clipped at zero), drawn from a generator seeded by ``seed``, so every
request in a condition sees the same gaps and the same participant-independent schedule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

PREFIX = "timing:"


@dataclass
class ExplicitTiming:
    """The emulation interface the pacer reads (`paced`, `release_ms`, `ttft_ms`, `paced_tok_s`)."""

    ttft_ms: float  # request arrival to the first token, ms
    tok_s: float  # mean decode speed, tokens per second
    jitter_ms: float = 0.0  # standard deviation of each gap between tokens, ms
    seed: int = 0  # seeds the gaps: the same numbers give the same schedule
    label: str = ""  # what the study calls this condition
    paced: bool = True  # always paced (the pacer checks it)
    _release_ms: list = field(default_factory=list, repr=False)  # cumulative release times, ms

    def __post_init__(self) -> None:
        if not (self.ttft_ms >= 0 and self.tok_s > 0 and self.jitter_ms >= 0):
            raise ValueError("explicit timing needs ttft_ms >= 0, tok_s > 0 and jitter_ms >= 0, got "
                             f"{self.ttft_ms!r}, {self.tok_s!r}, {self.jitter_ms!r}")
        self._rng = np.random.default_rng(int(self.seed))
        self._release_ms = [float(self.ttft_ms)]

    @property
    def profile(self) -> str:
        return "explicit"

    @property
    def model(self) -> str:
        return self.label or f"{self.tok_s:g} tok/s, TTFT {self.ttft_ms:g} ms"

    @property
    def per_token_ms(self) -> float:
        return 1000.0 / self.tok_s

    @property
    def decode_tok_s(self) -> float:
        return float(self.tok_s)

    @property
    def paced_tok_s(self) -> float:  # the rate the stream is released at
        return float(self.tok_s)

    def release_ms(self, index: int) -> float:
        """Emulated time (ms since arrival) at which token `index` (0-based) is released."""
        if index < 0:
            raise ValueError("token index must be >= 0")
        times = self._release_ms
        while len(times) <= index:
            # Draw in blocks: the sequence depends only on the seed, never on how it is read.
            gaps = self.per_token_ms + self._rng.normal(0.0, 1.0, 256) * self.jitter_ms
            for gap in np.clip(gaps, 0.0, None):
                times.append(times[-1] + float(gap))
        return times[index]

    def summary(self) -> dict:
        return {"profile": "explicit", "model": self.model, "paced": True, "ttft_ms": self.ttft_ms,
                "decode_tok_s": self.tok_s, "jitter_ms": self.jitter_ms, "seed": self.seed}


def timing_profile(ttft_ms: float, tok_s: float, jitter_ms: float = 0.0, seed: int = 0, label: str = "") -> str:
    """The profile string that asks the engine for this explicit timing."""
    return PREFIX + json.dumps({"ttft_ms": ttft_ms, "tok_s": tok_s, "jitter_ms": jitter_ms, "seed": seed,
                                "label": label}, separators=(",", ":"))


def parse_timing_profile(profile: str) -> ExplicitTiming:
    """An `ExplicitTiming` from a ``timing:{...}`` profile string; ValueError when malformed."""
    if not profile.startswith(PREFIX):
        raise ValueError(f"not an explicit timing profile: {profile!r}")
    try:
        spec = json.loads(profile[len(PREFIX):])
    except ValueError as exc:
        raise ValueError(f"explicit timing is not valid JSON: {exc}") from None
    if not isinstance(spec, dict):
        raise ValueError("explicit timing must be a JSON object")
    unknown = set(spec) - {"ttft_ms", "tok_s", "jitter_ms", "seed", "label"}
    if unknown:
        raise ValueError(f"explicit timing has unknown fields: {', '.join(sorted(unknown))}")
    try:
        return ExplicitTiming(float(spec["ttft_ms"]), float(spec["tok_s"]), float(spec.get("jitter_ms", 0.0)),
                              int(spec.get("seed", 0)), str(spec.get("label", "")))
    except KeyError as exc:
        raise ValueError(f"explicit timing needs {exc.args[0]}") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"explicit timing: {exc}") from None


def explicit_pacing(profile: str, job):
    """(pace(n) → awaitable, stats() → dict) for one request under explicit timing."""
    from ..wafer.pacer import Pacer

    pacer = Pacer(parse_timing_profile(profile))
    pacer.start(job.t_arrival)

    def pace(n_tokens: int):
        return pacer.wait_release(n_tokens)

    return pace, pacer.stats


def with_explicit_timing(factory):
    """The ONNX backend's pacing factory (engine/backends/onnx.py `PacingFactory`), extended with ``timing:`` profiles."""

    def pacing(engine, profile, job, send, emulate=None):
        if profile and profile.startswith(PREFIX):
            return explicit_pacing(profile, job)
        if factory is None:
            return None, None
        return factory(engine, profile, job, send, emulate)

    return pacing
