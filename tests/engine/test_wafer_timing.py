"""Timing model behaviour: the switches a demo or study turns move the numbers the right way."""

import pytest

from engine.wafer import ServingOptions, emulation
from engine.wafer.calibration import SESSION_SETUP_MS
from engine.wafer.timing import layer_cycles
from engine.wafer.profiles import WSE3
from engine.wafer.presets import PRESETS


def test_wafer_scale_is_several_times_faster_than_a_gpu_node_on_70b():
    wafer = emulation("wse-3", "llama-3.1-70b", 500)
    gpus = emulation("h100x8", "llama-3.1-70b", 500)
    assert wafer.decode_tok_s > 5 * gpus.decode_tok_s
    assert wafer.ttft_ms < gpus.ttft_ms


def test_newer_gpus_are_faster():
    speeds = [emulation(p, "llama-3.1-70b", 500).decode_tok_s for p in ("h100x8", "h200x8", "b200x8")]
    assert speeds == sorted(speeds)


def test_speculation_raises_speed_by_less_than_the_tokens_per_step():
    plain = emulation("h100x8", "llama-3.1-8b", 100)
    spec = emulation("h100x8", "llama-3.1-8b", 100, speculation_acceptance=0.7)
    assert spec.tokens_per_step == pytest.approx((1 - 0.7**5) / (1 - 0.7))
    assert spec.decode_tok_s == pytest.approx(plain.decode_tok_s)  # the plain figure stays reported
    assert plain.decode_tok_s < spec.decode_tok_s_speculative < plain.decode_tok_s * spec.tokens_per_step
    assert spec.paced_tok_s == pytest.approx(spec.decode_tok_s_speculative)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 2.5])
def test_speculation_acceptance_outside_0_1_is_refused(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        emulation("wse-3", "llama-3.1-8b", 100, speculation_acceptance=bad)


def test_prewarm_skips_setup_and_the_cached_prefix():
    cold = emulation("h100x8", "llama-3.1-8b", 2000, serving=ServingOptions(prewarm=False))
    warm = emulation("h100x8", "llama-3.1-8b", 2000, serving=ServingOptions(prewarm=True, cached_prompt_tokens=1800))
    assert cold.ttft_ms - warm.ttft_ms > SESSION_SETUP_MS
    assert warm.per_token_ms == pytest.approx(cold.per_token_ms)


def test_new_http_connection_per_request_costs_round_trips_a_websocket_does_not():
    ws = emulation("wse-3", "llama-3.1-8b", 100, serving=ServingOptions(transport="websocket", network_rtt_ms=30))
    http = emulation("wse-3", "llama-3.1-8b", 100, serving=ServingOptions(transport="http", network_rtt_ms=30))
    assert http.ttft_ms - ws.ttft_ms == pytest.approx(60)


def test_optimized_serving_stack_cuts_time_per_token():
    old = emulation("wse-3", "llama-3.1-8b", 100)
    new = emulation("wse-3", "llama-3.1-8b", 100, serving=ServingOptions(serving_stack="optimized"))
    assert new.per_token_ms < old.per_token_ms


def test_8_bit_weights_speed_up_a_bandwidth_bound_gpu():
    assert emulation("h100", "llama-3.1-8b", 100, weight_bits=8).decode_tok_s > 1.5 * emulation(
        "h100", "llama-3.1-8b", 100
    ).decode_tok_s


def test_ttft_grows_with_the_prompt():
    ttfts = [emulation("wse-3", "llama-3.1-70b", n).ttft_ms for n in (10, 1000, 8000)]
    assert ttfts == sorted(ttfts) and ttfts[2] > 2 * ttfts[0]


def test_release_times_start_at_ttft_and_step_by_the_token_time():
    emu = emulation("wse-3", "llama-3.1-8b", 100)
    assert emu.release_ms(0) == pytest.approx(emu.ttft_ms)
    assert emu.release_ms(10) - emu.release_ms(9) == pytest.approx(emu.per_token_ms)
    assert emu.decode_tok_s == pytest.approx(1000 / emu.per_token_ms)
    with pytest.raises(ValueError):
        emu.release_ms(-1)


def test_step_phases_add_up_to_the_step():
    emu = emulation("wse-3", "llama-3.1-70b", 100)
    assert sum(d for _, _, d in emu.step_phases()) / 1000 == pytest.approx(emu.step_ms)
    kinds = [k for k, _, _ in emu.step_phases()]
    assert kinds.count("layer") == 80 and kinds.count("hop") == emu.placement.wafers - 1


def test_a_layer_is_bound_by_hops_on_a_big_region_and_by_simd_on_a_small_one():
    shape = PRESETS["llama-3.1-8b"]
    wide = layer_cycles(shape, WSE3, 750, 750, 100, pipelined=False)
    small = layer_cycles(shape, WSE3, 100, 100, 100)
    assert wide.collectives > 10 * wide.compute
    assert small.compute > wide.compute * 50
    with pytest.raises(ValueError):
        layer_cycles(shape, WSE3, 0, 10, 100)


def test_local_profile_is_not_paced():
    emu = emulation("local", "tessera-edit-mini", 100)
    assert not emu.paced and emu.decode_tok_s is None and emu.release_ms(5) == 0.0


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ValueError, match="wse-3"):
        emulation("tpu-v9", "llama-3.1-8b", 100)


def test_prompt_longer_than_the_model_context_is_refused():
    with pytest.raises(ValueError, match="exceeds"):
        emulation("wse-3", "llama-3.1-8b", 200_000)


def test_kv_cache_grows_with_a_long_prompt_and_a_bad_context_is_refused():
    long = emulation("wse-3", "llama-3.1-8b", 20_000)
    assert long.placement.context_tokens >= 20_000
    with pytest.raises(ValueError, match="context_tokens"):
        emulation("wse-3", "llama-3.1-8b", 100, context_tokens=0)


def test_a_layer_larger_than_a_wafer_says_how_large():
    with pytest.raises(ValueError, match=r"needs \d+\.\d GB"):
        emulation("wse-3", "llama-3.1-70b", 100, workload="batch", context_tokens=131072)
