"""Release real tokens at their emulated times.

The engine computes tokens as fast as it can; the pacer holds each one back until the emulated
hardware would have produced it (the emulated clock starts at the request's arrival). When real
compute is slower than the emulation, tokens go out as soon as they exist and the lag is recorded,
so `done` stats and the gauges show it instead of hiding it.

A request the engine runs as several prompts (a long target's windows) is several runs on the
emulated hardware too: each further run prefills its own prompt once the tokens before it are out.
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

from .emulation import Emulation


class Pacer:
    """Paces one request. Call `start()` at arrival, then `await wait_release(n)` per emission."""

    def __init__(
        self,
        emulation: Emulation,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.emulation = emulation
        self._clock = clock
        self._sleep = sleep
        self._t0_s: float | None = None
        self._lag_ms = 0.0  # worst lateness of a real token behind its emulated time
        self._late_tokens = 0  # emissions that were already late when their tokens existed
        self._released = 0  # tokens released so far
        self._first_release_s: float | None = None
        self._last_release_s: float | None = None
        # (first token index, emulated ms its run starts at, emulation) per run, in order
        self._runs: list[tuple[int, float, Emulation]] = [(0, 0.0, emulation)]

    def next_run(self, emulation: Emulation, tokens_before: int) -> None:
        """The request's next run (its own prompt, e.g. the next window) follows `tokens_before` tokens.

        Its prefill starts when the emulated hardware has produced the last of those tokens
        (at arrival when there are none), and its tokens follow on `emulation`'s schedule.
        """
        if not isinstance(tokens_before, int) or tokens_before < 0:
            raise ValueError(f"tokens_before must be a non-negative integer, got {tokens_before!r}")
        start_ms = self._due_ms(tokens_before) if tokens_before else 0.0
        self._runs = [r for r in self._runs if r[0] < tokens_before] + [(tokens_before, start_ms, emulation)]
        if tokens_before == 0:
            self.emulation = emulation  # the request's first token, and so its TTFT, come from this run

    def _due_ms(self, n_tokens: int) -> float:
        """Emulated ms after arrival at which the n-th token (1-based) is due."""
        first, start_ms, emu = next(r for r in reversed(self._runs) if r[0] < n_tokens)
        return start_ms + emu.release_ms(n_tokens - 1 - first)

    def start(self, t0_s: float | None = None) -> None:
        """Start the emulated clock at the request's arrival (now when `t0_s` is None)."""
        self._t0_s = self._clock() if t0_s is None else float(t0_s)
        self._lag_ms = 0.0
        self._late_tokens = 0
        self._released = 0
        self._first_release_s = self._last_release_s = None

    async def wait_release(self, n_tokens: int) -> None:
        """Wait until the n-th token (cumulative count, 1-based) is due; return at once if late."""
        if self._t0_s is None:
            raise RuntimeError("Pacer.start() must be called at the request's arrival")
        if not isinstance(n_tokens, int) or n_tokens < 1:
            raise ValueError(f"n_tokens must be a positive integer, got {n_tokens!r}")
        if self.emulation.paced:
            due_s = self._t0_s + self._due_ms(n_tokens) / 1000.0
            now = self._clock()
            if now > due_s:
                self._late_tokens += 1
                self._lag_ms = max(self._lag_ms, (now - due_s) * 1000.0)
            # Loop: an event loop's timers may fire early (uvloop's run on a millisecond clock).
            while now < due_s:
                await self._sleep(due_s - now)
                now = self._clock()
        now = self._clock()
        if self._first_release_s is None:
            self._first_release_s = now
        self._last_release_s = now
        self._released = max(self._released, n_tokens)

    @property
    def lag_ms(self) -> float:
        """How far real compute fell behind the emulation, worst case over the request, ms."""
        return self._lag_ms

    def emulated_now_ms(self) -> float:
        """Emulated time since the request's arrival, ms (for activity frames)."""
        if self._t0_s is None:
            return 0.0
        return (self._clock() - self._t0_s) * 1000.0

    def stats(self) -> dict:
        """Pacing figures for the `done` message."""
        emu = self.emulation
        out = {
            "profile": emu.profile,
            "emulated_model": emu.model,
            "paced": emu.paced,
            "emulated_tok_s": round(emu.paced_tok_s, 1) if emu.paced_tok_s else None,
            "emulated_ttft_ms": round(emu.ttft_ms, 3) if emu.paced else None,
            "lag_ms": round(self._lag_ms, 3),
            "late_tokens": self._late_tokens,
            "released_tokens": self._released,
        }
        if self._t0_s is not None and self._first_release_s is not None:
            out["released_ttft_ms"] = round((self._first_release_s - self._t0_s) * 1000.0, 3)
        return out
