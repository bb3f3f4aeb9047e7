"""Placement: regions sized by SRAM, serpentine order, spill to more wafers, strategy choice."""

import pytest

from engine.wafer import emulation
from engine.wafer.calibration import USABLE_SRAM_FRACTION
from engine.wafer.placement import PIPELINED, WAFER_WIDE, place
from engine.wafer.profiles import WSE3
from engine.wafer.presets import PRESETS

CONTEXT = 8192


def _overlap(a, b):
    return a.wafer == b.wafer and a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


@pytest.mark.parametrize("model", ["llama-3.1-8b", "llama-3.1-70b", "qwen2-72b"])
@pytest.mark.parametrize("strategy", [PIPELINED, WAFER_WIDE])
def test_regions_stay_on_the_wafer_never_overlap_and_hold_their_layers(model, strategy):
    shape = PRESETS[model]
    p = place(shape, WSE3, strategy, CONTEXT)
    for r in p.regions:
        assert 0 <= r.x and r.x + r.w <= WSE3.tile_cols and 0 <= r.y and r.y + r.h <= WSE3.tile_rows
    for i, a in enumerate(p.regions):
        for b in p.regions[i + 1:]:
            assert not _overlap(a, b), (a, b)
    held = sorted(layer for r in p.regions if r.first_layer >= 0 for layer in range(r.first_layer, r.last_layer + 1))
    assert held == list(range(shape.layers))
    per_tile = WSE3.sram_bytes_per_tile * USABLE_SRAM_FRACTION
    for r in p.regions:
        if r.first_layer >= 0:
            layers = r.last_layer - r.first_layer + 1
            need = layers * (shape.layer_weight_bytes + shape.kv_bytes_per_token_layer * CONTEXT)
            assert r.w * r.h * per_tile >= need


def test_pipelined_layers_follow_a_serpentine_of_neighbours():
    p = place(PRESETS["llama-3.1-8b"], WSE3, PIPELINED, CONTEXT)
    layers = [r for r in p.regions if r.kind == "layer"]
    for a, b in zip(layers, layers[1:]):
        same_band_neighbours = a.y == b.y and (a.x + a.w == b.x or b.x + b.w == a.x)
        next_band_below = b.y == a.y + a.h and abs(a.x - b.x) < a.w
        assert same_band_neighbours or next_band_below, (a, b)
    bands = sorted({r.y for r in layers})
    first_band = [r.x for r in layers if r.y == bands[0]]
    second_band = [r.x for r in layers if r.y == bands[1]]
    assert first_band == sorted(first_band) and second_band == sorted(second_band, reverse=True)


def test_8b_fits_one_wse3_and_70b_spills_onto_more():
    small = emulation("wse-3", "llama-3.1-8b", 100)
    large = emulation("wse-3", "llama-3.1-70b", 100)
    assert small.placement.wafers == 1
    assert large.placement.wafers > 1
    # 70B at 16 bits is 141 GB of weights; one wafer has 44 GB of SRAM
    assert large.placement.wafers >= PRESETS["llama-3.1-70b"].weight_bytes / WSE3.sram_bytes
    assert sum(large.placement.layers_per_wafer) == 80
    assert 0 < large.placement.sram_utilization <= USABLE_SRAM_FRACTION


def test_too_few_wafers_is_a_clear_error_that_says_how_many_are_needed():
    with pytest.raises(ValueError, match=r"needs at least \d+"):
        emulation("wse-3", "llama-3.1-405b", 100, wafers=3)


def test_more_wafers_than_needed_gives_bigger_regions_not_a_slower_model():
    fewest = emulation("wse-3", "llama-3.1-70b", 100)
    more = emulation("wse-3", "llama-3.1-70b", 100, wafers=fewest.placement.wafers + 3)
    assert more.placement.wafers == fewest.placement.wafers + 3
    assert more.placement.tiles_per_layer >= fewest.placement.tiles_per_layer
    assert more.placement.sram_utilization < fewest.placement.sram_utilization


def test_interactive_choice_is_the_faster_strategy_and_says_why():
    emu = emulation("wse-3", "llama-3.1-8b", 100)
    forced = {s: emulation("wse-3", "llama-3.1-8b", 100, strategy=s) for s in (PIPELINED, WAFER_WIDE)}
    fastest = min(forced, key=lambda s: forced[s].step_ms)
    assert emu.strategy == fastest
    assert "interactive" in emu.reason and "us per step" in emu.reason


def test_batch_workload_picks_layer_pipelined_and_reserves_kv_for_every_sequence():
    emu = emulation("wse-3", "llama-3.1-8b", 100, workload="batch")
    assert emu.strategy == PIPELINED
    assert emu.reason.startswith("batch")
    assert emu.placement.sequences == 32
    assert emu.placement.sram_utilization > emulation("wse-3", "llama-3.1-8b", 100).placement.sram_utilization


def test_gpu_node_spills_405b_onto_a_second_node():
    emu = emulation("h100x8", "llama-3.1-405b", 100)
    assert emu.placement.nodes == 2 and emu.placement.gpus == 16
    assert emulation("h200x8", "llama-3.1-405b", 100).placement.nodes == 1


def test_wafers_flag_is_refused_for_gpu_profiles():
    with pytest.raises(ValueError, match="wafer profiles"):
        emulation("h100x8", "llama-3.1-8b", 100, wafers=2)


def test_a_layer_too_big_to_share_a_wafer_with_a_vocabulary_table_gets_wafers_of_its_own():
    # Kimi K2 at 16 bits: 34 GB per layer fits a wafer's usable SRAM, but not beside a 2.3 GB table
    emu = emulation("wse-3", "kimi-k2", 100, weight_precision="16")
    per_wafer = emu.placement.layers_per_wafer
    assert per_wafer[0] == 0 and per_wafer[-1] == 0 and set(per_wafer[1:-1]) == {1}
    assert sum(per_wafer) == 61 and emu.placement.wafers == 63
    kinds = {r.kind for r in emu.placement.regions if r.wafer in (0, emu.placement.wafers - 1)}
    assert kinds == {"embed", "head"}
