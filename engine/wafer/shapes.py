"""Model shapes the scheduler places: dense or mixture-of-experts decoders, GQA or latent attention.

Only the shape matters for emulation (how many weights, how much KV cache, how many MACs per
token), never the weights themselves. Presets live in presets.py, config.json parsing in
hfconfig.py; both build these records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .precision import Precision, get_precision

# Emulations size the KV cache for this many tokens unless asked otherwise: Cerebras Inference
# launched Llama 3.1 with an 8k context (Aug 2024), and an editing session rarely needs more.
DEFAULT_CONTEXT_TOKENS = 8192


@dataclass(frozen=True)
class ModelShape:
    """A decoder-only transformer's shape (RMSNorm, gated FFN; dense or mixture of experts)."""

    name: str  # preset name or the config file's stem
    layers: int  # decoder layers
    hidden: int  # model width d
    heads: int  # query heads
    kv_heads: int  # key/value heads (grouped-query attention; MLA: equal to heads)
    head_dim: int  # width of one query/key head (MLA: nope + rope part)
    ffn: int  # gated FFN inner width of the dense layers
    vocab: int  # vocabulary size
    max_context: int  # longest context the model supports, tokens
    tied_embeddings: bool  # input embedding and LM head share one table
    weight_precision: str = "16"  # storage format of the weights (precision.PRECISIONS key)
    kv_precision: str = "16"  # storage format of the KV cache
    experts: int = 0  # routed experts in each MoE layer (0: a dense model)
    experts_per_token: int = 0  # routed experts each token goes to (top-k)
    expert_ffn: int = 0  # gated FFN inner width of one routed expert
    shared_ffn: int = 0  # inner width of the always-active shared expert(s) together (0: none)
    moe_layers: int = 0  # layers whose FFN is the experts; the others use the dense FFN
    window: int = 0  # sliding-window (or chunked) attention span, tokens (0: none)
    windowed_layers: int = 0  # layers that attend only within the window
    q_lora_rank: int = 0  # MLA: query compression rank (0: a full query projection)
    kv_lora_rank: int = 0  # MLA: latent KV width (0: no MLA, plain grouped-query attention)
    rope_dim: int = 0  # MLA: decoupled RoPE key width shared by all heads
    v_head_dim: int = 0  # MLA: value head width (0: head_dim)

    def __post_init__(self) -> None:
        for field in ("layers", "hidden", "heads", "kv_heads", "head_dim", "ffn", "vocab", "max_context"):
            value = getattr(self, field)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"model shape {self.name!r}: {field} must be a positive integer, got {value!r}")
        if self.heads % self.kv_heads:
            raise ValueError(f"model shape {self.name!r}: heads ({self.heads}) not a multiple of kv_heads ({self.kv_heads})")
        get_precision(self.weight_precision)
        get_precision(self.kv_precision)
        if self.experts:
            if not 1 <= self.experts_per_token <= self.experts:
                raise ValueError(f"model shape {self.name!r}: experts per token must be between 1 and {self.experts}, "
                                 f"got {self.experts_per_token}")
            if self.expert_ffn <= 0 or not 1 <= self.moe_layers <= self.layers:
                raise ValueError(f"model shape {self.name!r}: an MoE model needs an expert width and 1..{self.layers} "
                                 f"MoE layers")
        if not 0 <= self.windowed_layers <= self.layers or (self.windowed_layers and self.window <= 0):
            raise ValueError(f"model shape {self.name!r}: windowed layers need a positive window")

    # --- precisions ---------------------------------------------------------------------------
    @property
    def weights(self) -> Precision:
        return get_precision(self.weight_precision)

    @property
    def kv(self) -> Precision:
        return get_precision(self.kv_precision)

    @property
    def weight_bits(self) -> float:  # storage bits per weight
        return self.weights.bits

    @property
    def weight_bytes_per_param(self) -> float:
        return self.weights.bits / 8

    def with_precision(self, weights: "str | int | None" = None, kv: "str | int | None" = None) -> "ModelShape":
        return replace(
            self,
            weight_precision=get_precision(weights).name if weights is not None else self.weight_precision,
            kv_precision=get_precision(kv).name if kv is not None else self.kv_precision,
        )

    def with_bits(self, bits: int) -> "ModelShape":
        return self.with_precision(weights=bits)

    # --- attention ----------------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def q_dim(self) -> int:  # width of the query projection
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:  # width of the key (and of the value) projection; MLA: the latent
        return self.kv_lora_rank + self.rope_dim if self.is_mla else self.kv_heads * self.head_dim

    @property
    def attn_params(self) -> int:  # attention weights of one layer
        h = self.hidden
        if not self.is_mla:
            return h * (self.q_dim + 2 * self.kv_dim) + self.q_dim * h
        v_dim = self.v_head_dim or self.head_dim
        nope = self.head_dim - self.rope_dim
        q = h * self.q_dim if not self.q_lora_rank else h * self.q_lora_rank + self.q_lora_rank * (1 + self.q_dim)
        kv = h * (self.kv_lora_rank + self.rope_dim) + self.kv_lora_rank * (1 + self.heads * (nope + v_dim))
        return q + kv + self.heads * v_dim * h

    @property
    def kv_bytes_per_token_layer(self) -> float:  # KV cache of one token in one layer, bytes
        # MLA caches the latent and the RoPE key once for all heads (DeepSeek-V2 paper, 2024).
        values = self.kv_dim if self.is_mla else 2 * self.kv_dim
        return values * self.kv.bits / 8

    def attended(self, context_tokens: int) -> float:
        """Tokens a layer attends to, averaged over layers (windowed layers stop at the window)."""
        full = max(0, context_tokens)
        windowed = min(full, self.window) if self.window else full
        return ((self.layers - self.windowed_layers) * full + self.windowed_layers * windowed) / self.layers

    def kv_bytes_layer(self, context_tokens: int) -> float:
        """KV cache of one layer (mean over layers) for a sequence of `context_tokens`, bytes."""
        return self.kv_bytes_per_token_layer * self.attended(context_tokens)

    @property
    def attention_macs_per_token(self) -> int:  # score + weighted sum MACs per attended token
        if self.is_mla:  # absorbed form: q.c and q_rope.k_rope per head, then p.c per head
            return self.heads * (2 * self.kv_lora_rank + self.rope_dim)
        return 2 * self.heads * self.head_dim

    # --- feed-forward -------------------------------------------------------------------------
    @property
    def expert_params(self) -> int:  # one routed expert
        return 3 * self.hidden * self.expert_ffn

    @property
    def moe_ffn_params(self) -> int:  # routed experts + shared expert + router of one MoE layer
        return self.experts * self.expert_params + 3 * self.hidden * self.shared_ffn + self.hidden * self.experts

    @property
    def moe_ffn_active(self) -> int:  # weights of an MoE layer one token uses
        return self.experts_per_token * self.expert_params + 3 * self.hidden * self.shared_ffn + self.hidden * self.experts

    @property
    def dense_layers(self) -> int:
        return self.layers - self.moe_layers if self.is_moe else self.layers

    def _ffn_total(self, active: bool) -> int:  # FFN weights of all layers
        dense = self.dense_layers * 3 * self.hidden * self.ffn
        return dense + self.moe_layers * (self.moe_ffn_active if active else self.moe_ffn_params) if self.is_moe else dense

    # --- whole model --------------------------------------------------------------------------
    @property
    def vocab_params(self) -> int:  # one embedding-sized table
        return self.vocab * self.hidden

    @property
    def vocab_tables(self) -> int:  # 1 when embedding and LM head are tied, else 2
        return 1 if self.tied_embeddings else 2

    @property
    def layer_params(self) -> float:  # weights of one decoder layer, mean over layers (norms included)
        return self.attn_params + 2 * self.hidden + self._ffn_total(False) / self.layers

    @property
    def params(self) -> int:  # all weights of the model
        return int(self.layers * (self.attn_params + 2 * self.hidden) + self._ffn_total(False)
                   + self.vocab_tables * self.vocab_params + self.hidden)

    @property
    def active_params(self) -> int:
        """Weights one token's compute reads: all but the unchosen experts, and the LM head; the
        input embedding is a one-row lookup and not counted (OpenAI's gpt-oss convention)."""
        return int(self.layers * (self.attn_params + 2 * self.hidden) + self._ffn_total(True)
                   + self.vocab_params + self.hidden)

    @property
    def weight_bytes(self) -> float:
        return self.params * self.weight_bytes_per_param

    @property
    def layer_weight_bytes(self) -> float:  # one layer's weights (mean over layers), bytes
        return (self.params - self.vocab_tables * self.vocab_params - self.hidden) / self.layers * self.weight_bytes_per_param

    @property
    def active_layer_params(self) -> float:  # weights one token reads in one layer (mean), count
        return (self.active_params - self.vocab_params - self.hidden) / self.layers

    @property
    def active_ffn_width(self) -> float:  # mean FFN inner width a token's GEMVs see per expert
        if not self.is_moe:
            return self.ffn
        moe = self.expert_ffn + self.shared_ffn
        return (self.dense_layers * self.ffn + self.moe_layers * moe) / self.layers

    def layer_macs(self, context_tokens: int) -> float:
        """Multiply-adds of one layer (mean) for one new token attending to `context_tokens`."""
        return self.active_layer_params - 2 * self.hidden + self.attention_macs_per_token * self.attended(context_tokens)

    # The dependent GEMVs of one layer in decode, as (input width, output width). Q, K and V
    # share one input and run side by side, as do gate and up (and, in an MoE layer, the chosen
    # experts, each on its own tiles); four GEMV phases remain.
    def gemv_phases(self) -> tuple[tuple[int, int], ...]:
        ffn = max(1, round(self.active_ffn_width))
        return (
            (self.hidden, self.q_dim + 2 * self.kv_dim),
            (self.q_dim, self.hidden),
            (self.hidden, 2 * ffn),
            (ffn, self.hidden),
        )


def default_context(shape: ModelShape) -> int:
    return min(shape.max_context, DEFAULT_CONTEXT_TOKENS)

