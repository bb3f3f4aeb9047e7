"""Mixture of experts, attention variants and precisions from the real Hugging Face configs."""

import json

import pytest

from engine.wafer import emulation
from engine.wafer.hfconfig import shape_from_config
from engine.wafer.moe import expected_max_load, is_moe_layer, routed_experts
from engine.wafer.presets import CONFIGS, PRESETS, PUBLISHED, published_active

MOE = [n for n, s in PRESETS.items() if s.is_moe]


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_total_and_active_parameters_match_the_published_sizes_within_2_percent(name):
    shape, pub = PRESETS[name], PUBLISHED[name]
    assert shape.params / 1e9 == pytest.approx(pub.total_b, rel=0.02)
    assert published_active(shape, pub.active_counts_embedding) / 1e9 == pytest.approx(pub.active_b, rel=0.02)


def test_the_families_are_all_there_with_their_expert_layouts():
    assert {"mixtral-8x7b", "qwen2-57b-a14b", "qwen3-235b-a22b", "llama-4-scout", "llama-4-maverick",
            "gpt-oss-120b", "deepseek-v3", "kimi-k2"} <= set(MOE)
    assert PRESETS["llama-4-maverick"].moe_layers == 24  # interleave_moe_layer_step 2
    assert PRESETS["deepseek-v3"].moe_layers == 58  # first_k_dense_replace 3
    assert PRESETS["deepseek-v3"].shared_ffn == 2048 and PRESETS["qwen2-57b-a14b"].shared_ffn == 20480
    assert PRESETS["gpt-oss-120b"].windowed_layers == 18 and PRESETS["gpt-oss-120b"].window == 128
    assert PRESETS["deepseek-v3"].is_mla and PRESETS["kimi-k2"].is_mla


def test_mla_caches_the_latent_and_sliding_windows_cap_the_kv_cache():
    v3 = PRESETS["deepseek-v3"]
    assert v3.kv_bytes_per_token_layer == (512 + 64) * 2  # one latent + RoPE key for all 128 heads
    oss = PRESETS["gpt-oss-120b"]
    assert oss.kv_bytes_layer(100_000) == pytest.approx(oss.kv_bytes_per_token_layer * (100_000 + 128) / 2)


@pytest.mark.parametrize("key", ["num_experts_per_group", "moe_capacity_factor", "attn_config", "linear_attn_heads"])
def test_an_unknown_expert_or_attention_key_is_an_error_naming_it(key):
    config = dict(CONFIGS["mixtral-8x7b"], **{key: 4})
    with pytest.raises(ValueError, match=key):
        shape_from_config(config, source="cfg")


def test_expert_settings_without_an_expert_count_and_unknown_layer_types_are_refused():
    dense = dict(CONFIGS["llama-3.1-8b"], num_experts_per_tok=2)
    with pytest.raises(ValueError, match="expert count"):
        shape_from_config(dense)
    hybrid = dict(CONFIGS["gpt-oss-20b"], layer_types=["linear_attention"] * 24)
    with pytest.raises(ValueError, match="linear_attention"):
        shape_from_config(hybrid)


def test_a_llama4_config_nested_under_text_config_reads_as_the_preset(tmp_path):
    path = tmp_path / "maverick" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"model_type": "llama4", "text_config": CONFIGS["llama-4-maverick"],
                                "vision_config": {"hidden_size": 1408}}))
    shape = emulation("b200x8", str(path), 100).shape
    assert shape.params == PRESETS["llama-4-maverick"].params and shape.experts == 128


def test_moe_presets_place_on_plausible_numbers_of_wafers():
    maverick = emulation("wse-3", "llama-4-maverick", 100).placement.wafers
    oss = emulation("wse-3", "gpt-oss-120b", 100).placement.wafers
    assert maverick >= 800e9 / 44e9  # 400B at 16 bits in 44 GB wafers
    assert oss <= 3  # 117B at MXFP4 is ~62 GB


def test_sram_follows_total_parameters_and_gpu_decode_follows_active_ones():
    moe, dense = PRESETS["qwen3-30b-a3b"], PRESETS["qwen3-32b"]
    assert moe.weight_bytes == pytest.approx(dense.weight_bytes, rel=0.1)
    assert emulation("h200", "qwen3-30b-a3b", 100).decode_tok_s > 3 * emulation("h200", "qwen3-32b", 100).decode_tok_s


def test_expert_parallel_on_gpus_spreads_experts_and_pays_all_to_alls():
    ep = emulation("b200x8", "qwen3-235b-a22b", 100, strategy="expert-parallel")
    tp = emulation("b200x8", "qwen3-235b-a22b", 100, strategy="tensor-parallel")
    assert ep.placement.experts_per_gpu == 16 and ep.summary()["experts"]["experts_per_gpu"] == 16
    assert ep.decode_tok_s != tp.decode_tok_s
    auto = emulation("b200x8", "qwen3-235b-a22b", 100)
    assert auto.decode_tok_s == pytest.approx(max(ep.decode_tok_s, tp.decode_tok_s))
    with pytest.raises(ValueError, match="expert parallelism"):
        emulation("b200x8", "llama-3.1-8b", 100, strategy="expert-parallel")


def test_expected_busiest_gpu_load():
    assert expected_max_load(8, 1, 8) == pytest.approx(1.0)
    assert expected_max_load(8, 8, 8) == pytest.approx(1.0)  # every GPU gets exactly one
    assert 1.0 < expected_max_load(256, 8, 8) < 8 / 2
    assert expected_max_load(64, 4, 1) == 4


def test_routing_is_deterministic_and_picks_top_k_distinct_experts():
    shape = PRESETS["llama-4-maverick"]
    a = routed_experts(shape, 7, 3)
    assert a == routed_experts(shape, 7, 3) and len(set(a)) == 1
    assert len(set(routed_experts(PRESETS["qwen3-235b-a22b"], 1, 1))) == 8
    assert [is_moe_layer(shape, i) for i in range(4)] == [False, True, False, True]
    v3 = PRESETS["deepseek-v3"]
    assert not is_moe_layer(v3, 2) and is_moe_layer(v3, 3)


def test_weight_and_kv_precisions_are_separate_and_mxfp4_is_4_25_bits():
    base = PRESETS["llama-3.1-70b"]
    fp8 = base.with_precision(weights="fp8", kv="fp8")
    assert fp8.weight_bytes == pytest.approx(base.weight_bytes / 2)
    assert fp8.kv_bytes_per_token_layer == base.kv_bytes_per_token_layer / 2
    assert base.with_precision(weights="mxfp4").weight_bytes == pytest.approx(base.params * 4.25 / 8)
    with pytest.raises(ValueError, match="precision"):
        base.with_precision(weights="fp3")


def test_fp4_is_native_on_b200_but_widened_to_fp8_on_h100():
    # compute-bound prefill shows the multiply rate: 4-bit beats FP8 on B200, not on H100 (w4a8)
    def prefill(profile, precision):
        return emulation(profile, "llama-3.1-70b", 8000, weight_precision=precision).ttft_parts["prefill_ms"]
    assert prefill("b200x8", "4") < 0.75 * prefill("b200x8", "fp8")
    assert prefill("h100x8", "4") == pytest.approx(prefill("h100x8", "fp8"), rel=0.1)
    assert prefill("h100x8", "fp8") < 0.8 * prefill("h100x8", "16")


@pytest.mark.parametrize("profile", ["wse-3", "wse-2", "h100", "h100x8", "h200", "h200x8", "b200x8", "gb200nvl72"])
def test_every_profile_places_every_preset_or_says_why_not(profile):
    for name in PRESETS:
        try:
            emu = emulation(profile, name, 100)
        except ValueError as exc:
            assert name in str(exc)
            continue
        assert emu.decode_tok_s > 0 and emu.ttft_ms > 0


def test_gb200_nvl72_spreads_a_trillion_parameter_moe_over_72_gpus():
    emu = emulation("gb200nvl72", "kimi-k2", 100)
    assert emu.placement.gpus == 72 and emu.placement.nodes == 1
    h100 = emulation("h100x8", "kimi-k2", 100)
    assert h100.placement.nodes > 1 and emu.decode_tok_s > h100.decode_tok_s


def test_windows_from_every_family_spelling():
    gemma = dict(CONFIGS["qwen3-32b"], sliding_window=1024, sliding_window_pattern=6)
    gemma.pop("use_sliding_window")
    assert shape_from_config(gemma).windowed_layers == 64 - 64 // 6
    mistral = dict(CONFIGS["llama-3.1-8b"], sliding_window=4096)
    assert shape_from_config(mistral).windowed_layers == 32
    qwen = dict(CONFIGS["qwen3-32b"], use_sliding_window=True, sliding_window=4096, max_window_layers=28)
    assert shape_from_config(qwen).windowed_layers == 64 - 28
    assert PRESETS["llama-4-scout"].windowed_layers == 36  # chunked attention, every 4th layer global
