"""Mixture-of-experts helpers: expert placement figures, expert-parallel load, emulated routing.

Routing is emulated, not computed: the real router needs the real weights. Each token's experts
are drawn uniformly (a perfectly balanced router, what load-balancing losses aim for) from a
generator seeded by the token index and the layer, so the same request always lights the same
experts.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass

from .shapes import ModelShape


@dataclass(frozen=True)
class ExpertPlacement:
    """Where the routed experts of one MoE layer live (one record, every field with its unit)."""

    experts: int  # routed experts per MoE layer
    per_token: int  # experts each token is routed to
    shared: bool  # an always-active shared expert sits beside them
    moe_layers: int  # layers with experts
    tiles_per_expert: int  # wafer: tiles one routed expert occupies (0 on GPUs)
    experts_per_gpu: float  # GPU, expert-parallel: routed experts each GPU holds (0 on wafers)


def wafer_expert_placement(shape: ModelShape, tiles_per_layer: int) -> ExpertPlacement | None:
    if not shape.is_moe:
        return None
    share = shape.expert_params / max(1.0, shape.layer_params)
    return ExpertPlacement(shape.experts, shape.experts_per_token, shape.shared_ffn > 0, shape.moe_layers,
                           max(1, round(tiles_per_layer * share)), 0.0)


@functools.lru_cache(maxsize=256)
def expected_max_load(experts: int, chosen: int, gpus: int) -> float:
    """Expected most routed experts any one GPU holds for a token, when `chosen` distinct experts
    out of `experts` (spread evenly, experts/gpus per GPU) are picked uniformly at random.

    P(max <= c) counts the ways to pick `chosen` with at most c from each GPU: the coefficient of
    x^chosen in (sum_{j<=c} C(m, j) x^j)^gpus, over C(experts, chosen).
    """
    if gpus <= 1:
        return float(chosen)
    m = experts // gpus
    if m * gpus != experts or m <= 0:
        m = math.ceil(experts / gpus)
    total = math.comb(m * gpus, chosen)
    expected = 0.0
    for c in range(0, chosen):
        poly = [1] + [0] * chosen
        per_gpu = [math.comb(m, j) for j in range(min(c, m) + 1)]
        for _ in range(gpus):
            nxt = [0] * (chosen + 1)
            for i, a in enumerate(poly):
                if a:
                    for j, b in enumerate(per_gpu):
                        if i + j <= chosen:
                            nxt[i + j] += a * b
            poly = nxt
        expected += 1.0 - poly[chosen] / total
    return expected


def routed_experts(shape: ModelShape, token: int, layer: int) -> list[int]:
    """The experts token `token` is routed to in layer `layer` (emulated, deterministic)."""
    if not shape.is_moe:
        return []
    rng = random.Random(token * 1_000_003 + layer)
    return sorted(rng.sample(range(shape.experts), shape.experts_per_token))


def is_moe_layer(shape: ModelShape, layer: int) -> bool:
    """Whether `layer` has experts, following the family's layout as far as the shape records it:
    dense layers first (DeepSeek), or spread evenly (Llama 4 interleaving)."""
    if not shape.is_moe:
        return False
    dense = shape.layers - shape.moe_layers
    if dense == 0:
        return True
    step = shape.layers / shape.moe_layers
    if step >= 2 - 1e-9:  # interleaved: every step-th layer
        return (layer + 1) % round(step) == 0
    return layer >= dense
