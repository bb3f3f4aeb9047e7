"""The timing model against published figures, from one set of shared constants."""

import pytest

from engine.wafer import emulation
from engine.wafer.placement import WAFER_WIDE
from engine.wafer.validation import KNOWN, ROWS, TOLERANCE, evaluate, markdown, predict

KNOWN_ROWS = [r for r in ROWS if r.setup == KNOWN and r.metric != "ttft_ms" and not r.miss]
RANGE_ROWS = [r for r in ROWS if r.setup != KNOWN and r.metric != "ttft_ms"]


@pytest.mark.parametrize("row", KNOWN_ROWS, ids=[r.key for r in KNOWN_ROWS])
def test_rows_with_a_known_setup_are_within_25_percent(row):
    predicted, upper = predict(row)
    assert upper is None
    error = predicted / row.published - 1
    assert abs(error) <= TOLERANCE, f"{row.hardware} {row.model}: {predicted:.0f} vs {row.published:.0f} ({error:+.0%})"


@pytest.mark.parametrize("row", RANGE_ROWS, ids=[r.key for r in RANGE_ROWS])
def test_rows_with_unknown_speculation_are_a_range_from_plain_to_speculative(row):
    low, high = predict(row)
    assert high is not None and high > low > 0


def test_every_miss_says_why_and_the_table_lists_every_row():
    table = markdown()
    for row in ROWS:
        assert f"| {row.hardware} | {row.model} |" in table
        if not evaluate(row)["within"]:
            assert row.miss and row.miss in table, f"{row.key} misses without a reason"


def test_the_maverick_row_uses_eagle_speculation_in_fp8():
    row = next(r for r in ROWS if r.key == "b200-maverick")
    assert row.spec is not None and row.precision == "fp8"
    plain = emulation("b200x8", "llama-4-maverick", 100, weight_precision="fp8", serving=row.serving)
    assert predict(row)[0] > 1.5 * plain.decode_tok_s


def test_llama_70b_fits_four_wse3_wafers_as_cerebras_served_it():
    emu = emulation("wse-3", "llama-3.1-70b", 100)
    assert emu.placement.wafers == 4
    assert emulation("wse-3", "llama-3.1-70b", 100, wafers=4).placement.wafers == 4


def test_wafer_wide_row_uses_the_whole_square_of_the_wse2_grid():
    emu = emulation("wse-2", "llama-3.1-8b", 100, strategy=WAFER_WIDE)
    assert (emu.placement.layer_w, emu.placement.layer_h) == (750, 750)
    assert emu.placement.wafers == 1


def test_single_h100_cannot_reach_the_published_best_instance():
    assert emulation("h100", "llama-3.1-8b", 100).decode_tok_s < 242 * 0.9
