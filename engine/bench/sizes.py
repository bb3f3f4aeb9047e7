"""How much ``tessera-engine bench`` measures (full or quick), and how its figures are rounded."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass
class BenchSizes:
    prompt_tokens: int  # tokens prefilled before a decode measurement
    decode_steps: int  # single-token steps per decode measurement
    repeats: int  # measurements per figure; figures are their medians
    edits_per_kind: int  # edit-suite examples per instruction kind
    edit_max_tokens: int  # output budget per edit, tokens
    ttft_file_tokens: int  # size of the file for the TTFT figure, tokens
    round_trips: int  # requests per transport measurement
    stop_trials: int  # stops per stop-latency figure
    remote_turns: int = 40  # edit turns per remote transport (engine/bench/remote.py)


FULL = BenchSizes(prompt_tokens=64, decode_steps=128, repeats=9, edits_per_kind=4, edit_max_tokens=400,
                  ttft_file_tokens=2000, round_trips=200, stop_trials=5)
QUICK = BenchSizes(prompt_tokens=16, decode_steps=12, repeats=2, edits_per_kind=1, edit_max_tokens=12,
                   ttft_file_tokens=200, round_trips=8, stop_trials=1, remote_turns=2)


def median_ms(seconds: list[float]) -> float:
    """The median of `seconds`, in milliseconds."""
    return round(statistics.median(seconds) * 1e3, 4)


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b to three places; None when either is missing or zero."""
    return round(a / b, 3) if a and b else None
