"""Race mode's pure parts: lane figures on the engine's clock, the margin, lane specs."""

from __future__ import annotations

import pytest

from app.core.demo.race import DEFAULT_LANES, LaneProgress, LaneSpec, parse_lanes, race_margin
from wire import DoneStats


def _lane(label: str, times_ms: list[float], reason: str = "eos") -> LaneProgress:
    lane = LaneProgress(LaneSpec(label, "h100x8", "llama-3.1-70b"))
    for t in times_ms:
        lane.on_token(1, t)
    lane.on_done(reason, DoneStats(lag_ms=0.0, emulated_tok_s=75.0))
    return lane


def test_figures_come_from_the_engine_times():
    lane = _lane("slow", [15.0, 28.0, 41.0, 54.0, 67.0])
    assert lane.ttft_ms == 15.0
    assert lane.finish_ms == 67.0
    assert lane.decode_tok_s() == pytest.approx(4 * 1000 / 52)
    assert lane.emulated_tok_s == 75.0


def test_live_rate_counts_the_last_quarter_second():
    lane = LaneProgress(LaneSpec("x"))
    for i in range(100):  # one token every 10 ms from t = 100 ms: 100 tok/s
        lane.on_token(1, 100.0 + 10 * i)
    assert lane.live_tok_s(1090.0) == pytest.approx(100.0, rel=0.05)
    assert lane.live_tok_s(2090.0) == 0.0  # nothing released in the last window


def test_two_lane_margin_names_the_winner_and_both_times():
    slow = _lane("Llama 3.1 70B on 8× H100", [100.0, 9100.0])
    fast = _lane("Llama 3.1 70B on Cerebras WSE-3", [10.0, 1900.0])
    assert race_margin([slow, fast]) == "Llama 3.1 70B on Cerebras WSE-3 wins: 4.8× faster, 9.1 s vs 1.9 s"


def test_three_lanes_give_one_clause_per_loser_and_sub_second_times_keep_digits():
    a = _lane("A", [5.0, 80.0])
    b = _lane("B", [50.0, 1200.0])
    c = _lane("C", [30.0, 400.0])
    assert race_margin([b, a, c]) == ("A wins: 5.0× faster than C (0.40 s vs 0.08 s); "
                                      "15.0× faster than B (1.2 s vs 0.08 s)")


def test_no_margin_until_every_lane_ended_and_stopped_lanes_are_not_ranked():
    running = LaneProgress(LaneSpec("r"))
    running.on_token(3, 10.0)
    assert race_margin([_lane("a", [1.0, 2.0]), running]) is None
    stopped = _lane("s", [1.0, 2.0], reason="stop")
    assert race_margin([_lane("a", [1.0, 5.0]), stopped]).startswith("No winner")


def test_emulated_lanes_say_so_and_from_which_profile():
    for spec in DEFAULT_LANES:
        assert spec.provenance().startswith("EMULATED")
        assert spec.profile in spec.provenance() and spec.emulate in spec.provenance()
    assert "not emulated" in LaneSpec("here").provenance()


def test_lanes_from_the_command_line():
    lanes = parse_lanes("h100x8:llama-3.1-70b, wse-3:llama-3.1-70b,local")
    assert [(l.profile, l.emulate) for l in lanes] == [("h100x8", "llama-3.1-70b"), ("wse-3", "llama-3.1-70b"),
                                                       ("local", None)]
    assert lanes[1].label == "Llama 3.1 70B on Cerebras WSE-3"
    with pytest.raises(ValueError, match="2 or 3 lanes"):
        parse_lanes("wse-3")
