"""Model shapes the scheduler places: presets with published shapes, or a Hugging Face config.json.

Only the shape matters for emulation (how many weights, how much KV cache, how many MACs per
token), never the weights themselves.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

# Emulations size the KV cache for this many tokens unless asked otherwise: Cerebras Inference
# launched Llama 3.1 with an 8k context (Aug 2024), and an editing session rarely needs more.
DEFAULT_CONTEXT_TOKENS = 8192

_REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_CONFIG = _REPO_ROOT / "resources" / "models" / "tessera-edit-mini" / "config.json"


@dataclass(frozen=True)
class ModelShape:
    """A decoder-only transformer's shape (Llama family: RMSNorm, GQA attention, gated FFN)."""

    name: str  # preset name or the config file's stem
    layers: int  # decoder layers
    hidden: int  # model width d
    heads: int  # query heads
    kv_heads: int  # key/value heads (grouped-query attention)
    head_dim: int  # width of one head
    ffn: int  # gated FFN inner width
    vocab: int  # vocabulary size
    max_context: int  # longest context the model supports, tokens
    tied_embeddings: bool  # input embedding and LM head share one table
    weight_bits: int = 16  # bits per weight (16, 8 or 4)

    def __post_init__(self) -> None:
        for field in ("layers", "hidden", "heads", "kv_heads", "head_dim", "ffn", "vocab", "max_context"):
            value = getattr(self, field)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"model shape {self.name!r}: {field} must be a positive integer, got {value!r}")
        if self.heads % self.kv_heads:
            raise ValueError(f"model shape {self.name!r}: heads ({self.heads}) not a multiple of kv_heads ({self.kv_heads})")
        if self.weight_bits not in (4, 8, 16):
            raise ValueError(f"model shape {self.name!r}: weight_bits must be 4, 8 or 16, got {self.weight_bits}")

    # --- sizes of one layer -------------------------------------------------------------------
    @property
    def q_dim(self) -> int:  # width of the query projection
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:  # width of the key (and of the value) projection
        return self.kv_heads * self.head_dim

    @property
    def layer_params(self) -> int:  # weights of one decoder layer (norm gains included)
        attn = self.hidden * (self.q_dim + 2 * self.kv_dim) + self.q_dim * self.hidden
        ffn = 3 * self.hidden * self.ffn
        return attn + ffn + 2 * self.hidden

    @property
    def weight_bytes_per_param(self) -> float:
        return self.weight_bits / 8

    @property
    def layer_weight_bytes(self) -> float:
        return self.layer_params * self.weight_bytes_per_param

    @property
    def kv_bytes_per_token_layer(self) -> int:  # K and V of one token in one layer, 16-bit cache
        return 2 * self.kv_dim * 2

    @property
    def vocab_params(self) -> int:  # one embedding-sized table
        return self.vocab * self.hidden

    @property
    def vocab_tables(self) -> int:  # 1 when embedding and LM head are tied, else 2
        return 1 if self.tied_embeddings else 2

    @property
    def params(self) -> int:  # all weights of the model
        return self.layers * self.layer_params + self.vocab_tables * self.vocab_params + self.hidden

    @property
    def weight_bytes(self) -> float:
        return self.params * self.weight_bytes_per_param

    def layer_macs(self, context_tokens: int) -> int:
        """Multiply-adds of one layer for one new token attending to `context_tokens` tokens."""
        weights = self.layer_params - 2 * self.hidden
        attention = 2 * self.heads * self.head_dim * max(0, context_tokens)  # q.K and p.V
        return weights + attention

    # The dependent GEMVs of one layer in decode, as (input width, output width). Q, K and V
    # share one input and run side by side, as do gate and up; four GEMV phases remain.
    def gemv_phases(self) -> tuple[tuple[int, int], ...]:
        return (
            (self.hidden, self.q_dim + 2 * self.kv_dim),
            (self.q_dim, self.hidden),
            (self.hidden, 2 * self.ffn),
            (self.ffn, self.hidden),
        )

    def with_bits(self, bits: int) -> "ModelShape":
        return replace(self, weight_bits=bits)


def _llama(name, layers, hidden, heads, kv_heads, ffn, vocab, max_context, tied=False) -> ModelShape:
    return ModelShape(name, layers, hidden, heads, kv_heads, hidden // heads, ffn, vocab, max_context, tied)


# Published shapes (the models' config.json on Hugging Face).
PRESETS: dict[str, ModelShape] = {
    "llama-3.1-8b": _llama("llama-3.1-8b", 32, 4096, 32, 8, 14336, 128256, 131072),
    "llama-3.1-70b": _llama("llama-3.1-70b", 80, 8192, 64, 8, 28672, 128256, 131072),
    "llama-3.1-405b": _llama("llama-3.1-405b", 126, 16384, 128, 8, 53248, 128256, 131072),
    "qwen2-72b": _llama("qwen2-72b", 80, 8192, 64, 8, 29568, 152064, 32768),
}

# The bundled model's shape, used when its config.json is not (yet) in resources/.
_BUNDLED_FALLBACK = ModelShape("tessera-edit-mini", 4, 192, 6, 6, 32, 512, 2048, 512, True)

# Accepted spellings of each field: Hugging Face Llama/Qwen keys first, then GPT-2 style ones.
_KEYS = {
    "layers": ("num_hidden_layers", "n_layer", "n_layers", "num_layers"),
    "hidden": ("hidden_size", "n_embd", "d_model", "dim"),
    "heads": ("num_attention_heads", "n_head", "n_heads"),
    "kv_heads": ("num_key_value_heads", "n_kv_heads", "n_kv_head"),
    "ffn": ("intermediate_size", "n_inner", "ffn_dim", "d_ff", "ffn_hidden"),
    "vocab": ("vocab_size", "n_vocab"),
    "max_context": ("max_position_embeddings", "n_positions", "max_seq_len", "context_length", "n_ctx"),
}


def _first(config: dict, field: str, source: str):
    for key in _KEYS[field]:
        if config.get(key) is not None:
            return config[key]
    raise ValueError(f"{source}: missing {field} (expected one of {', '.join(_KEYS[field])})")


def shape_from_config(config: dict, name: str = "model", source: str = "config") -> ModelShape:
    """A ModelShape from a parsed config.json; bad or missing fields give a clear ValueError."""
    if not isinstance(config, dict):
        raise ValueError(f"{source}: expected a JSON object")
    try:
        layers = int(_first(config, "layers", source))
        hidden = int(_first(config, "hidden", source))
        heads = int(_first(config, "heads", source))
        kv_heads = config.get("num_key_value_heads") or config.get("n_kv_heads") or heads
        ffn_raw = next((config[k] for k in _KEYS["ffn"] if config.get(k) is not None), None)
        ffn = int(ffn_raw) if ffn_raw is not None else 4 * hidden
        vocab = int(_first(config, "vocab", source))
        max_context = int(_first(config, "max_context", source))
        head_dim = int(config.get("head_dim") or (hidden // heads if heads else 0))
        tied = bool(config.get("tie_word_embeddings", True))
        kv_heads = int(kv_heads)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(source):
            raise
        raise ValueError(f"{source}: {exc}") from None
    return ModelShape(name, layers, hidden, heads, kv_heads, head_dim, ffn, vocab, max_context, tied)


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


def bundled_shape() -> ModelShape:
    """The bundled model's shape: its config.json when present, else the documented fallback."""
    if BUNDLED_CONFIG.is_file():
        try:
            shape = load_config(BUNDLED_CONFIG)
            return replace(shape, name="tessera-edit-mini")
        except ValueError:
            pass  # a half-written config while the model is being exported: use the fallback
    return _BUNDLED_FALLBACK


def resolve_shape(spec: "str | Path | ModelShape") -> ModelShape:
    """A preset name, `tessera-edit-mini`, a config.json path, or a ModelShape as is."""
    if isinstance(spec, ModelShape):
        return spec
    text = str(spec).strip()
    key = text.lower()
    if key in PRESETS:
        return PRESETS[key]
    if key == "tessera-edit-mini":
        return bundled_shape()
    if text.endswith(".json") or Path(text).exists():
        return load_config(text)
    known = ", ".join([*PRESETS, "tessera-edit-mini"])
    raise ValueError(f"unknown model {spec!r}: give a preset ({known}) or a path to a config.json")


def default_context(shape: ModelShape) -> int:
    return min(shape.max_context, DEFAULT_CONTEXT_TOKENS)


def ceil_div(a: float, b: float) -> int:
    return int(math.ceil(a / b))
