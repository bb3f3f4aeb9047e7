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


def layer_cycles(
    shape: ModelShape,
    profile: WaferProfile,
    width: int,
    height: int,
    context_tokens: int,
    tokens: int = 1,
    pipelined: bool = True,
) -> LayerCycles:
    """One decoder layer for `tokens` tokens on a width x height region."""
    if width <= 0 or height <= 0:
        raise ValueError("region must have at least one tile on each side")
    tiles = width * height
    macs = shape.layer_macs(context_tokens) * tokens
    sram_bytes = shape.layer_weight_bytes + shape.kv_bytes_per_token_layer * max(0, context_tokens)
    compute = macs / tiles / profile.fma_per_cycle
    sram = sram_bytes / tiles / profile.sram_bytes_per_cycle

    comm = 0.0
    for _, out_dim in shape.gemv_phases():
        comm += line_cycles(profile, width, words(out_dim / height, tokens))
        comm += line_cycles(profile, height, words(out_dim / width, tokens))
    scalars = words(max(1, shape.heads // max(1, height)), tokens)
    comm += (TRAVERSALS_X - len(shape.gemv_phases())) * line_cycles(profile, width, scalars)
    comm += (TRAVERSALS_Y - len(shape.gemv_phases())) * line_cycles(profile, height, scalars)

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
