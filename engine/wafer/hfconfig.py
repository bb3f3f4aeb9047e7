"""A ModelShape from a Hugging Face config.json, experts and attention variants included.

Families read: Llama 2/3, Mistral (sliding window), Mixtral, Qwen2/Qwen3 dense and MoE, Llama 4
(interleaved MoE layers, chunked attention), gpt-oss (alternating sliding window), DeepSeek-V2/V3
and Kimi K2 (MLA, shared experts, dense first layers), GPT-2 style keys. A key that names an
expert or attention setting this module does not model is an error naming it, never a silently
dense answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from .shapes import ModelShape

_REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_CONFIG = _REPO_ROOT / "resources" / "models" / "tessera-edit-mini" / "config.json"

# Accepted spellings of each field: Hugging Face keys first, then GPT-2 style ones.
_KEYS = {
    "layers": ("num_hidden_layers", "n_layer", "n_layers", "num_layers"),
    "hidden": ("hidden_size", "n_embd", "d_model", "dim"),
    "heads": ("num_attention_heads", "n_head", "n_heads"),
    "kv_heads": ("num_key_value_heads", "n_kv_heads", "n_kv_head"),
    "ffn": ("intermediate_size_mlp", "intermediate_size", "n_inner", "ffn_dim", "d_ff", "ffn_hidden"),
    "vocab": ("vocab_size", "n_vocab"),
    "max_context": ("max_position_embeddings", "n_positions", "max_seq_len", "context_length", "n_ctx"),
    "experts": ("num_local_experts", "num_experts", "n_routed_experts"),
    "top_k": ("num_experts_per_tok", "experts_per_token"),
}

# Keys of the expert and attention families that this module reads (above and below).
_READ = {
    "moe_intermediate_size", "intermediate_size_mlp", "interleave_moe_layer_step", "moe_layers",
    "n_shared_experts", "shared_expert_intermediate_size", "first_k_dense_replace", "moe_layer_freq",
    "decoder_sparse_step", "mlp_only_layers", "head_dim", "sliding_window", "use_sliding_window",
    "max_window_layers", "layer_types", "attention_chunk_size", "no_rope_layers", "sliding_window_pattern", "q_lora_rank",
    "kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim",
} | {k for keys in _KEYS.values() for k in keys}

# Expert and attention keys that change no size or cost the emulation counts: routing losses and
# scales, normalisations, dropout, biases (well under 0.1% of the weights), score temperatures.
_NO_COST = {
    "norm_topk_prob", "router_aux_loss_coef", "output_router_logits", "router_jitter_noise",
    "routed_scaling_factor", "topk_method", "n_group", "topk_group", "scoring_func", "aux_loss_alpha",
    "seq_aux", "ep_size", "swiglu_limit", "attention_bias", "attention_dropout", "attn_pdrop",
    "use_qk_norm", "attn_temperature_tuning", "attn_scale", "floor_scale", "scale_attn_weights",
    "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "attn_logit_softcapping",
    "query_pre_attn_scalar", "qkv_bias", "attention_multiplier", "moe_router_enable_expert_bias",
    "num_nextn_predict_layers",  # DeepSeek-V3's multi-token-prediction module: not served here
}
# A key naming one of these is about experts or attention.
_FAMILY = re.compile(r"expert|moe|router|routed|topk|sparse|attn|attention|window|lora|chunk|head_dim|_heads?$|rope_layers")
_LAYER_TYPES = {"full_attention": False, "sliding_attention": True, "chunked_attention": True}


def _first(config: dict, field: str, source: str, default=None):
    for key in _KEYS[field]:
        if config.get(key) is not None:
            return config[key]
    if default is not None:
        return default
    raise ValueError(f"{source}: missing {field} (expected one of {', '.join(_KEYS[field])})")


def _check_keys(config: dict, source: str) -> None:
    for key in config:
        if _FAMILY.search(key) and key not in _READ and key not in _NO_COST:
            raise ValueError(
                f"{source}: config key {key!r} is an expert or attention setting this emulator does not "
                f"model; refusing to give a figure that ignores it"
            )


def _moe_layer_count(config: dict, layers: int, source: str) -> int:
    if isinstance(config.get("moe_layers"), list):
        return len(config["moe_layers"])
    if config.get("interleave_moe_layer_step"):  # Llama 4: every step-th layer has experts
        return len(range(int(config["interleave_moe_layer_step"]) - 1, layers, int(config["interleave_moe_layer_step"])))
    if config.get("first_k_dense_replace") is not None:  # DeepSeek: the first k layers are dense
        freq = int(config.get("moe_layer_freq") or 1)
        first = int(config["first_k_dense_replace"])
        return sum(1 for i in range(first, layers) if i % freq == 0)
    step = int(config.get("decoder_sparse_step") or 1)  # Qwen2/3-MoE
    skip = set(config.get("mlp_only_layers") or ())
    return sum(1 for i in range(layers) if i not in skip and (i + 1) % step == 0)


def _windows(config: dict, layers: int, source: str) -> tuple[int, int]:
    """(window tokens, windowed layers)."""
    types = config.get("layer_types")
    if isinstance(types, list) and types:
        unknown = sorted({t for t in types if t not in _LAYER_TYPES})
        if unknown:
            raise ValueError(f"{source}: layer_types {unknown} are attention kinds this emulator does not model")
        windowed = sum(1 for t in types if _LAYER_TYPES[t])
        window = int(config.get("sliding_window") or config.get("attention_chunk_size") or 0)
        return (window, windowed) if windowed and window else (0, 0)
    if config.get("sliding_window_pattern") and config.get("sliding_window"):  # Gemma 3: every N-th layer global
        return int(config["sliding_window"]), layers - layers // int(config["sliding_window_pattern"])
    if config.get("attention_chunk_size"):  # Llama 4: RoPE layers chunked, every 4th NoPE layer global
        flags = config.get("no_rope_layers")
        rope = sum(1 for f in flags if f) if isinstance(flags, list) and flags else layers - layers // 4
        return int(config["attention_chunk_size"]), rope
    window = config.get("sliding_window")
    if window and config.get("use_sliding_window", True):  # Mistral: every layer; Qwen: from max_window_layers
        start = int(config.get("max_window_layers") or 0) if "use_sliding_window" in config else 0
        return int(window), max(0, layers - start)
    return 0, 0


def shape_from_config(config: dict, name: str = "model", source: str = "config") -> ModelShape:
    """A ModelShape from a parsed config.json; bad, missing or unknown fields give a ValueError."""
    if not isinstance(config, dict):
        raise ValueError(f"{source}: expected a JSON object")
    if isinstance(config.get("text_config"), dict):  # multimodal wrappers (Llama 4): the decoder's part
        config = {k: v for k, v in config.items() if k != "text_config"} | config["text_config"]
    _check_keys(config, source)
    try:
        layers = int(_first(config, "layers", source))
        hidden = int(_first(config, "hidden", source))
        heads = int(_first(config, "heads", source))
        experts = int(_first(config, "experts", source, 0))
        kv_heads = int(_first(config, "kv_heads", source, heads))
        ffn = int(_first(config, "ffn", source, 4 * hidden))
        vocab = int(_first(config, "vocab", source))
        max_context = int(_first(config, "max_context", source))
        head_dim = int(config.get("head_dim") or (hidden // heads if heads else 0))
        tied = bool(config.get("tie_word_embeddings", True))
        moe = {}
        if experts:
            top_k = int(_first(config, "top_k", source))
            expert_ffn = int(config.get("moe_intermediate_size") or config.get("intermediate_size") or 0)
            if config.get("shared_expert_intermediate_size"):
                shared = int(config["shared_expert_intermediate_size"])
            elif config.get("n_shared_experts"):
                shared = int(config["n_shared_experts"]) * expert_ffn
            else:  # Llama 4 has one shared expert as wide as a routed one; the others none
                shared = expert_ffn if config.get("interleave_moe_layer_step") or config.get("moe_layers") else 0
            moe = dict(experts=experts, experts_per_token=top_k, expert_ffn=expert_ffn, shared_ffn=shared,
                       moe_layers=_moe_layer_count(config, layers, source))
        elif any(config.get(k) for k in ("moe_intermediate_size", "n_shared_experts") + _KEYS["top_k"]):
            raise ValueError(f"{source}: expert settings without an expert count ({', '.join(_KEYS['experts'])})")
        mla = {}
        if config.get("kv_lora_rank"):
            rope = int(config.get("qk_rope_head_dim") or 0)
            nope = int(config.get("qk_nope_head_dim") or 0)
            mla = dict(q_lora_rank=int(config.get("q_lora_rank") or 0), kv_lora_rank=int(config["kv_lora_rank"]),
                       rope_dim=rope, v_head_dim=int(config.get("v_head_dim") or nope))
            head_dim, kv_heads = nope + rope, heads
        window, windowed = _windows(config, layers, source)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(source):
            raise
        raise ValueError(f"{source}: {exc}") from None
    return ModelShape(name, layers, hidden, heads, kv_heads, head_dim, ffn, vocab, max_context, tied,
                      window=window, windowed_layers=windowed, **moe, **mla)


def load_config(path: str | Path) -> ModelShape:
    """A ModelShape from a config.json file (or a model folder holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
    if not p.is_file():
        raise ValueError(f"model config not found: {p}")
    try:
        config = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{p}: not a readable JSON config ({exc})") from None
    name = p.parent.name if p.name == "config.json" else p.stem
    return shape_from_config(config, name=name or "model", source=str(p))


# The bundled model's shape, used when its config.json is not (yet) in resources/.
_BUNDLED_FALLBACK = ModelShape("tessera-edit-mini", 4, 192, 6, 6, 32, 512, 2048, 512, True)


def bundled_shape() -> ModelShape:
    """The bundled model's shape: its config.json when present, else the documented fallback."""
    if BUNDLED_CONFIG.is_file():
        try:
            return replace(load_config(BUNDLED_CONFIG), name="tessera-edit-mini")
        except ValueError:
            pass  # a half-written config while the model is being exported: use the fallback
    return _BUNDLED_FALLBACK
