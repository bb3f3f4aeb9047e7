"""Cycle-level timing of a transformer on a wafer-scale mesh.

One decoder layer on a region of w x h tiles (weights spread evenly, WaferLLM-style 2-D tiling):
- local work: each tile does its share of the GEMV multiply-adds on its SIMD unit and streams its
  share of weights and KV cache from SRAM; the slower of the two bounds it;
- line collectives: a GEMV leaves partial sums along x, reduced across the region's width, and the
  result is redistributed along y for the next GEMV; RMSNorm and softmax need all-reduces. Each
  collective over a line of L tiles costs (L-1) hops, ceil(log2 L) tree stages and its payload;
- hand-off (layer-pipelined only): the layer's output moves into the next region of the serpentine.
Layers run one after another for one token; cycles turn into time at the profile's clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .calibration import REDUCTION_STAGE_CYCLES
from .profiles import WaferProfile
from .shapes import ModelShape

ACTIVATION_BYTES = 2  # activations and partial sums travel as 16-bit values
WAVELET_BYTES = 4  # one fabric wavelet carries 32 bits

# Line collectives of one decode layer on the critical path, per axis (see module docstring):
# along x: 4 GEMV reductions, 2 RMSNorm all-reduces, softmax max and sum all-reduces;
# along y: 4 GEMV redistributions, the q.K score reduction and the p.V redistribution.
TRAVERSALS_X = 8
TRAVERSALS_Y = 6


@dataclass(frozen=True)
class LayerCycles:
    """Cycles of one layer's step on one region (vLLM-style plain output record)."""

    compute: float  # SIMD multiply-add cycles of the busiest tile
    sram: float  # SRAM streaming cycles of the busiest tile
    collectives: float  # reductions, all-reduces and redistributions across the region
    handoff: float  # moving the output into the next region (0 for wafer-wide)

    @property
    def total(self) -> float:  # cycles; local work and communication do not overlap in decode
        return max(self.compute, self.sram) + self.collectives + self.handoff


def words(elements: float, tokens: int = 1) -> int:
    """Wavelets needed to carry `elements` 16-bit values for each of `tokens` tokens."""
    return int(math.ceil(max(elements, 0) * ACTIVATION_BYTES / WAVELET_BYTES)) * max(tokens, 1)


def line_cycles(profile: WaferProfile, length_tiles: int, payload_words: int) -> float:
    """A reduction or broadcast along a line of tiles: hops + tree stages + serialised payload."""
    length = max(1, int(length_tiles))
    stages = math.ceil(math.log2(length)) if length > 1 else 0
    return (length - 1) * profile.hop_cycles + stages * REDUCTION_STAGE_CYCLES + payload_words


def _expert_sides(shape: ModelShape, width: int, height: int) -> tuple[int, int]:
    """Sides of the sub-rectangle one routed expert occupies inside its layer's region: experts
    are spread over the region in proportion to their weights, keeping its aspect ratio."""
    share = shape.expert_params / max(1.0, shape.layer_params)
    return max(1, round(width * math.sqrt(share))), max(1, round(height * math.sqrt(share)))


def dispatch_cycles(shape: ModelShape, profile: WaferProfile, width: int, height: int, tokens: int = 1) -> float:
    """Routing one MoE layer on the fabric: the router's scores reduced and the top-k chosen
    (an all-reduce of `experts` values along both axes), the token's vector multicast to the k
    expert rectangles and their outputs gathered back (two traversals of the region each way)."""
    scores = words(shape.experts / max(1, height), tokens)
    topk = line_cycles(profile, width, scores) + line_cycles(profile, height, words(shape.experts_per_token, tokens))
    move = line_cycles(profile, width, words(shape.hidden / height, tokens)) + line_cycles(
        profile, height, words(shape.hidden / width, tokens))
    return topk + 2 * move


def layer_cycles(
    shape: ModelShape,
    profile: WaferProfile,
    width: int,
    height: int,
    context_tokens: int,
    tokens: int = 1,
    pipelined: bool = True,
) -> LayerCycles:
    """One decoder layer (mean over dense and MoE layers) for `tokens` tokens on a width x height region.

    Weights stay where they are: a tile holding a chosen expert multiplies every weight it
    holds, so a tile's local work is its share of all the layer's weights, not of the active
    ones. Experts shorten the FFN's reductions (each runs on its own small rectangle) and add
    the dispatch; they do not shorten a tile's work for one token.
    """
    if width <= 0 or height <= 0:
        raise ValueError("region must have at least one tile on each side")
    tiles = width * height
    attended = shape.attended(context_tokens)
    macs = (shape.layer_params - 2 * shape.hidden + shape.attention_macs_per_token * attended) * tokens
    sram_bytes = shape.layer_weight_bytes + shape.kv_bytes_layer(context_tokens)
    compute = macs / tiles / profile.fma_per_cycle
    sram = sram_bytes / tiles / profile.sram_bytes_per_cycle

    moe_share = shape.moe_layers / shape.layers if shape.is_moe else 0.0
    ew, eh = _expert_sides(shape, width, height) if moe_share else (width, height)
    comm = 0.0
    for i, (_, out_dim) in enumerate(shape.gemv_phases()):
        dense = line_cycles(profile, width, words(out_dim / height, tokens)) + line_cycles(
            profile, height, words(out_dim / width, tokens))
        if i >= 2 and moe_share:  # FFN phases: MoE layers reduce inside one expert's rectangle
            expert = line_cycles(profile, ew, words(out_dim / eh, tokens)) + line_cycles(
                profile, eh, words(out_dim / ew, tokens))
            dense = (1 - moe_share) * dense + moe_share * expert
        comm += dense
    scalars = words(max(1, shape.heads // max(1, height)), tokens)
    comm += (TRAVERSALS_X - len(shape.gemv_phases())) * line_cycles(profile, width, scalars)
    comm += (TRAVERSALS_Y - len(shape.gemv_phases())) * line_cycles(profile, height, scalars)
    if moe_share:
        comm += moe_share * dispatch_cycles(shape, profile, width, height, tokens)

    handoff = line_cycles(profile, width, words(shape.hidden / height, tokens)) if pipelined else 0.0
    return LayerCycles(compute=compute, sram=sram, collectives=comm, handoff=handoff)


def vocab_cycles(shape: ModelShape, profile: WaferProfile, width: int, height: int, tokens: int = 1) -> float:
    """LM head GEMV over the vocabulary plus the arg-max (sampling) all-reduce on its region."""
    tiles = max(1, width * height)
    macs = shape.vocab_params * tokens
    weight_bytes = shape.vocab_params * shape.weight_bytes_per_param
    local = max(macs / tiles / profile.fma_per_cycle, weight_bytes / tiles / profile.sram_bytes_per_cycle)
    comm = line_cycles(profile, width, words(shape.vocab / height, tokens))
    comm += line_cycles(profile, width, tokens) + line_cycles(profile, height, tokens)  # arg-max
    return local + comm


def embed_cycles(shape: ModelShape, profile: WaferProfile, width: int, height: int, tokens: int = 1) -> float:
    """Embedding lookup: the row is read where it lives and sent to the first layer."""
    return line_cycles(profile, width, words(shape.hidden / max(1, height), tokens)) + line_cycles(
        profile, height, tokens
    )


def cycles_to_us(profile: WaferProfile, cycles: float) -> float:
    return cycles / profile.clock_hz * 1e6
