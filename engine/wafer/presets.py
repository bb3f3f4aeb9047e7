"""Model presets: the key values of each model's published Hugging Face config.json, with sources.

Every preset is built by the same parser a user's config.json goes through (hfconfig.py), so the
presets also test it. `published` holds each model's parameter counts as its makers state them;
makers differ on whether the input embedding counts as "active", and each entry says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .hfconfig import bundled_shape, load_config, shape_from_config
from .shapes import ModelShape


@dataclass(frozen=True)
class Published:
    """A model's parameter counts as its makers publish them."""

    total_b: float  # total parameters, billions
    active_b: float  # parameters active per token, billions
    active_counts_embedding: bool  # the makers' "active" includes the input embedding table
    source: str  # where the figures and the config come from (who, date)
    label: str  # human name for menus


_LLAMA3 = dict(vocab_size=128256, max_position_embeddings=131072, tie_word_embeddings=False,
               num_key_value_heads=8, rope_theta=500000.0)
_QWEN3 = dict(vocab_size=151936, head_dim=128, tie_word_embeddings=False, use_sliding_window=False,
              sliding_window=None, max_position_embeddings=40960, attention_bias=False)
_LLAMA4 = dict(hidden_size=5120, intermediate_size=8192, intermediate_size_mlp=16384, num_hidden_layers=48,
               num_attention_heads=40, num_key_value_heads=8, head_dim=128, num_experts_per_tok=1,
               vocab_size=202048, attention_chunk_size=8192, tie_word_embeddings=False, use_qk_norm=True)
_GPT_OSS = dict(hidden_size=2880, intermediate_size=2880, num_attention_heads=64, num_key_value_heads=8,
                head_dim=64, experts_per_token=4, num_experts_per_tok=4, vocab_size=201088,
                max_position_embeddings=131072, sliding_window=128, tie_word_embeddings=False,
                swiglu_limit=7.0, attention_bias=True)
_DEEPSEEK = dict(hidden_size=7168, intermediate_size=18432, moe_intermediate_size=2048, num_hidden_layers=61,
                 n_shared_experts=1, num_experts_per_tok=8, q_lora_rank=1536, kv_lora_rank=512,
                 qk_rope_head_dim=64, qk_nope_head_dim=128, v_head_dim=128, moe_layer_freq=1,
                 tie_word_embeddings=False, topk_method="noaux_tc", scoring_func="sigmoid", norm_topk_prob=True)

# name -> (config.json key values, published figures, checkpoint weight precision)
_CONFIGS: dict[str, tuple[dict, Published, str]] = {
    "llama-3.1-8b": (
        dict(_LLAMA3, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32),
        Published(8.03, 8.03, True, "meta-llama/Llama-3.1-8B config.json (Meta, Jul 2024)", "Llama 3.1 8B"), "16"),
    "llama-3.1-70b": (
        dict(_LLAMA3, hidden_size=8192, intermediate_size=28672, num_hidden_layers=80, num_attention_heads=64),
        Published(70.6, 70.6, True, "meta-llama/Llama-3.1-70B config.json (Meta, Jul 2024)", "Llama 3.1 70B"), "16"),
    "llama-3.1-405b": (
        dict(_LLAMA3, hidden_size=16384, intermediate_size=53248, num_hidden_layers=126, num_attention_heads=128),
        Published(405.9, 405.9, True, "meta-llama/Llama-3.1-405B config.json (Meta, Jul 2024)", "Llama 3.1 405B"),
        "16"),
    "qwen2-72b": (
        dict(hidden_size=8192, intermediate_size=29568, num_hidden_layers=80, num_attention_heads=64,
             num_key_value_heads=8, vocab_size=152064, max_position_embeddings=32768, tie_word_embeddings=False),
        Published(72.7, 72.7, True, "Qwen/Qwen2-72B config.json (Qwen, Jun 2024)", "Qwen2 72B"), "16"),
    "qwen3-32b": (
        dict(_QWEN3, hidden_size=5120, intermediate_size=25600, num_hidden_layers=64, num_attention_heads=64,
             num_key_value_heads=8),
        Published(32.8, 32.8, True, "Qwen/Qwen3-32B config.json and model card (Qwen, Apr 2025)", "Qwen3 32B"), "16"),
    "mixtral-8x7b": (
        dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
             num_key_value_heads=8, num_local_experts=8, num_experts_per_tok=2, vocab_size=32000,
             max_position_embeddings=32768, sliding_window=None, tie_word_embeddings=False,
             router_aux_loss_coef=0.02),
        Published(46.7, 12.9, True, "mistralai/Mixtral-8x7B-v0.1 config.json; 'Mixtral of experts' "
                  "(Mistral AI blog, 2023-12-11)", "Mixtral 8x7B (MoE)"), "16"),
    "qwen2-57b-a14b": (
        dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
             num_key_value_heads=4, num_experts=64, num_experts_per_tok=8, moe_intermediate_size=2560,
             shared_expert_intermediate_size=20480, decoder_sparse_step=1, vocab_size=151936,
             max_position_embeddings=32768, use_sliding_window=False, sliding_window=131072,
             tie_word_embeddings=False),
        Published(57.0, 14.0, True, "Qwen/Qwen2-57B-A14B config.json; Qwen2 blog (Qwen, 2024-06-07)",
                  "Qwen2 57B-A14B (MoE)"), "16"),
    "qwen3-30b-a3b": (
        dict(_QWEN3, hidden_size=2048, intermediate_size=6144, num_hidden_layers=48, num_attention_heads=32,
             num_key_value_heads=4, num_experts=128, num_experts_per_tok=8, moe_intermediate_size=768,
             decoder_sparse_step=1, mlp_only_layers=[]),
        Published(30.5, 3.3, True, "Qwen/Qwen3-30B-A3B config.json and model card (Qwen, 2025-04-29)",
                  "Qwen3 30B-A3B (MoE)"), "16"),
    "qwen3-235b-a22b": (
        dict(_QWEN3, hidden_size=4096, intermediate_size=12288, num_hidden_layers=94, num_attention_heads=64,
             num_key_value_heads=4, num_experts=128, num_experts_per_tok=8, moe_intermediate_size=1536,
             decoder_sparse_step=1, mlp_only_layers=[]),
        Published(235.0, 22.0, True, "Qwen/Qwen3-235B-A22B config.json and model card (Qwen, 2025-04-29)",
                  "Qwen3 235B-A22B (MoE)"), "16"),
    "qwen3-coder-480b-a35b": (
        dict(_QWEN3, hidden_size=6144, intermediate_size=8192, num_hidden_layers=62, num_attention_heads=96,
             num_key_value_heads=8, num_experts=160, num_experts_per_tok=8, moe_intermediate_size=2560,
             decoder_sparse_step=1, max_position_embeddings=262144),
        Published(480.0, 35.0, True, "Qwen/Qwen3-Coder-480B-A35B-Instruct config.json (Qwen, 2025-07-22)",
                  "Qwen3-Coder 480B-A35B (MoE)"), "16"),
    "llama-4-scout": (
        dict(_LLAMA4, num_local_experts=16, interleave_moe_layer_step=1, max_position_embeddings=10485760),
        Published(109.0, 17.0, True, "meta-llama/Llama-4-Scout-17B-16E config.json; 'The Llama 4 herd' "
                  "(Meta blog, 2025-04-05)", "Llama 4 Scout (109B, MoE)"), "16"),
    "llama-4-maverick": (
        dict(_LLAMA4, num_local_experts=128, interleave_moe_layer_step=2, max_position_embeddings=1048576),
        Published(400.0, 17.0, True, "meta-llama/Llama-4-Maverick-17B-128E config.json; 'The Llama 4 herd' "
                  "(Meta blog, 2025-04-05)", "Llama 4 Maverick (400B, MoE)"), "16"),
    "gpt-oss-20b": (
        dict(_GPT_OSS, num_hidden_layers=24, num_local_experts=32,
             layer_types=["sliding_attention", "full_attention"] * 12),
        Published(20.91, 3.61, False, "openai/gpt-oss-20b config.json; gpt-oss model card (OpenAI, 2025-08-05)",
                  "gpt-oss-20b (MoE)"), "mxfp4"),
    "gpt-oss-120b": (
        dict(_GPT_OSS, num_hidden_layers=36, num_local_experts=128,
             layer_types=["sliding_attention", "full_attention"] * 18),
        Published(116.83, 5.13, False, "openai/gpt-oss-120b config.json; gpt-oss model card (OpenAI, 2025-08-05)",
                  "gpt-oss-120b (MoE)"), "mxfp4"),
    "deepseek-v2": (
        dict(_DEEPSEEK, hidden_size=5120, intermediate_size=12288, moe_intermediate_size=1536, num_hidden_layers=60,
             num_attention_heads=128, num_key_value_heads=128, n_routed_experts=160, n_shared_experts=2,
             num_experts_per_tok=6, first_k_dense_replace=1, vocab_size=102400, max_position_embeddings=163840,
             topk_method="greedy", scoring_func="softmax", norm_topk_prob=False),
        Published(236.0, 21.0, False, "deepseek-ai/DeepSeek-V2 config.json; DeepSeek-V2 paper, arXiv 2405.04434 "
                  "(May 2024)", "DeepSeek-V2 (MoE, MLA)"), "16"),
    "deepseek-v3": (
        dict(_DEEPSEEK, num_attention_heads=128, num_key_value_heads=128, n_routed_experts=256,
             first_k_dense_replace=3, vocab_size=129280, max_position_embeddings=163840, num_nextn_predict_layers=1,
             n_group=8, topk_group=4, routed_scaling_factor=2.5),
        Published(671.0, 37.0, False, "deepseek-ai/DeepSeek-V3 config.json; DeepSeek-V3 report, arXiv 2412.19437 "
                  "(Dec 2024); the 14B multi-token-prediction module is not counted", "DeepSeek-V3 (MoE, MLA)"),
        "fp8"),
    "kimi-k2": (
        dict(_DEEPSEEK, num_attention_heads=64, num_key_value_heads=64, n_routed_experts=384,
             first_k_dense_replace=1, vocab_size=163840, max_position_embeddings=131072, n_group=1, topk_group=1,
             routed_scaling_factor=2.827),
        Published(1040.0, 32.0, False, "moonshotai/Kimi-K2-Instruct config.json; Kimi K2 report, arXiv 2507.20534 "
                  "(Moonshot AI, Jul 2025)", "Kimi K2 (1T, MoE, MLA)"), "fp8"),
}

PUBLISHED: dict[str, Published] = {name: pub for name, (_, pub, _) in _CONFIGS.items()}
CONFIGS: dict[str, dict] = {name: dict(cfg) for name, (cfg, _, _) in _CONFIGS.items()}
PRESETS: dict[str, ModelShape] = {
    name: shape_from_config(cfg, name=name, source=f"preset {name}").with_precision(weights=bits)
    for name, (cfg, _, bits) in _CONFIGS.items()
}
BUNDLED = "tessera-edit-mini"


def preset_label(name: str) -> str:
    return PUBLISHED[name].label if name in PUBLISHED else name


def resolve_shape(spec: "str | Path | ModelShape") -> ModelShape:
    """A preset name, `tessera-edit-mini`, a config.json path, or a ModelShape as is."""
    if isinstance(spec, ModelShape):
        return spec
    text = str(spec).strip()
    key = text.lower()
    if key in PRESETS:
        return PRESETS[key]
    if key == BUNDLED:
        return bundled_shape()
    if text.endswith(".json") or Path(text).exists():
        return load_config(text)
    known = ", ".join([*PRESETS, BUNDLED])
    raise ValueError(f"unknown model {spec!r}: give a preset ({known}) or a path to a config.json")


def published_active(shape: ModelShape, counts_embedding: bool) -> int:
    """Active parameters under a maker's convention (with or without the input embedding)."""
    return shape.active_params + (shape.vocab_params if counts_embedding and not shape.tied_embeddings else 0)


__all__ = ["CONFIGS", "PRESETS", "PUBLISHED", "Published", "preset_label", "published_active", "resolve_shape"]
