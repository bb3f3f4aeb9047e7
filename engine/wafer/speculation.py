"""Speculative decoding as served systems run it: a drafter proposes k tokens, the target verifies
them in one step over k+1 positions, and the accepted prefix plus one token come out.

The drafter is either a separate small model (`draft`: any preset or config.json, placed and
timed on the same profile like the target) or EAGLE-style heads (`eagle`: one decoder layer of
the target's width plus an LM head, reading the target's hidden states; EAGLE-3, Li et al. 2025).
With per-token acceptance probability a (independent), a verify step emits on average
(1 - a^(k+1)) / (1 - a) tokens (Leviathan et al., ICML 2023).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .shapes import ModelShape

DRAFT = "draft"
EAGLE = "eagle"
METHODS = (DRAFT, EAGLE)

# The set-up assumed when a published figure says speculation was used but not how: EAGLE-3 heads,
# 3 drafts per step. NVIDIA's Llama 4 Maverick EAGLE-3 head accepts on average 2.94 (coding), 3.08
# (math) and 2.37 (summaries) tokens per step at k=3 (Red Hat's speculator card for it, Sept 2025);
# their mean, 2.80, is (1 - a^4) / (1 - a) at a = 0.765.
TYPICAL_DRAFT_TOKENS = 3
TYPICAL_ACCEPTANCE = 0.765


@dataclass(frozen=True)
class Speculation:
    """How a served system speculates (one record, every field with its unit)."""

    method: str = EAGLE  # DRAFT (a separate model) or EAGLE (heads on the target's hidden states)
    draft: str | None = None  # DRAFT: preset name or config.json path of the draft model
    draft_tokens: int = TYPICAL_DRAFT_TOKENS  # k: tokens drafted per verify step
    acceptance: float = TYPICAL_ACCEPTANCE  # probability that a drafted token is accepted, 0..1

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"speculation method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.method == DRAFT and not self.draft:
            raise ValueError("speculation with a draft model needs the draft model (a preset or config.json)")
        if not isinstance(self.draft_tokens, int) or not 1 <= self.draft_tokens <= 16:
            raise ValueError(f"draft tokens must be an integer from 1 to 16, got {self.draft_tokens!r}")
        if not 0.0 <= float(self.acceptance) < 1.0:
            raise ValueError(f"speculation acceptance must be in [0, 1), got {self.acceptance!r}")

    @property
    def tokens_per_step(self) -> float:  # expected tokens one verify step emits
        a, k = float(self.acceptance), self.draft_tokens
        return (1 - a ** (k + 1)) / (1 - a) if a > 0 else 1.0

    def describe(self) -> str:
        who = f"draft model {self.draft}" if self.method == DRAFT else "EAGLE heads"
        return f"{who}, k={self.draft_tokens}, acceptance {self.acceptance:.2f}"


def eagle_head(target: ModelShape) -> ModelShape:
    """The EAGLE-3 drafter of `target`: one dense decoder layer of its width (GQA, the dense FFN
    width, or 4x the hidden size for an all-MoE model) and its own LM head, in its precision."""
    ffn = target.ffn if target.dense_layers else 4 * target.hidden
    heads = max(1, target.hidden // 128)
    return replace(
        target, name=f"{target.name}-eagle", layers=1, heads=heads, kv_heads=heads, head_dim=128, ffn=ffn,
        tied_embeddings=False, experts=0, experts_per_token=0, expert_ffn=0, shared_ffn=0, moe_layers=0,
        window=0, windowed_layers=0, q_lora_rank=0, kv_lora_rank=0, rope_dim=0, v_head_dim=0,
    )
