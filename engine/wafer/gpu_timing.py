"""GPU timing: a roofline per kernel, tensor-parallel all-reduces, expert-parallel all-to-alls.

Each GEMM streams its share of the weights from HBM (memory roof) or, with many tokens, is bound
by the tensor cores in the precision the GPU multiplies the weights in (compute roof); every
kernel also pays a fixed floor. Tensor parallelism divides weights and work and adds two
all-reduces per layer. An MoE layer streams only the experts its tokens reach: split over the
tensor-parallel GPUs, or expert-parallel (whole experts spread over all GPUs, the busiest GPU's
share of the chosen experts sets the time, two all-to-alls move the token). A model larger than a
domain is split layer-wise over several (pipeline), paying one inter-node hop per boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .calibration import (
    ALLREDUCE_LATENCY_US,
    FUSED_ALLREDUCE_LATENCY_US,
    FUSED_KERNEL_FLOOR_US,
    FUSED_KERNELS_PER_LAYER,
    HBM_EFFICIENCY,
    INTER_DEVICE_LATENCY_US,
    KERNEL_FLOOR_US,
    KERNELS_PER_LAYER,
    KERNELS_PER_MOE_LAYER,
    KERNELS_PER_TOKEN,
    TENSOR_EFFICIENCY,
    USABLE_HBM_FRACTION,
)
from .moe import expected_max_load
from .precision import compute_class
from .profiles import GpuProfile
from .shapes import ModelShape

TENSOR_PARALLEL = "tensor-parallel"
EXPERT_PARALLEL = "expert-parallel"
INTER_NODE_BYTES_PER_S = 50e9  # InfiniBand NDR, 400 Gb/s per GPU-node link
_ACTIVATION_BYTES = 2


@dataclass(frozen=True)
class GpuPlacement:
    """How the model is spread over GPUs (one record, every field with its unit)."""

    strategy: str  # TENSOR_PARALLEL, or EXPERT_PARALLEL when the experts are spread whole over GPUs
    profile: str  # profile name
    nodes: int  # NVLink domains used, layers split evenly between them
    gpus_per_node: int  # GPUs of one domain
    memory_needed_bytes: float  # weights + KV cache, bytes
    memory_total_bytes: float  # HBM of all GPUs used, bytes
    context_tokens: int  # KV cache sized for this many tokens per sequence
    sequences: int  # sequences whose KV cache is reserved
    experts_per_gpu: float = 0.0  # expert-parallel: routed experts each GPU holds (0: split by TP)

    @property
    def gpus(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def memory_utilization(self) -> float:
        return self.memory_needed_bytes / self.memory_total_bytes


def place_gpu(shape: ModelShape, profile: GpuProfile, context_tokens: int, sequences: int = 1,
              strategy: str = TENSOR_PARALLEL) -> GpuPlacement:
    need = shape.weight_bytes + shape.layers * shape.kv_bytes_layer(context_tokens) * sequences
    per_node = profile.gpus * profile.hbm_bytes * USABLE_HBM_FRACTION
    nodes = max(1, math.ceil(need / per_node))
    if nodes > shape.layers:
        raise ValueError(f"{shape.name} cannot be placed on {profile.name}: a layer exceeds one node's memory")
    if strategy == EXPERT_PARALLEL and not (shape.is_moe and profile.gpus > 1):
        raise ValueError(f"expert parallelism needs an MoE model and several GPUs ({shape.name} on {profile.name})")
    per_gpu = shape.experts / profile.gpus if strategy == EXPERT_PARALLEL else 0.0
    return GpuPlacement(
        strategy, profile.name, nodes, profile.gpus, need, nodes * profile.gpus * profile.hbm_bytes,
        context_tokens, sequences, per_gpu,
    )


@dataclass(frozen=True)
class GpuSoftware:
    """Per-kernel costs of a serving stack's GPU code (calibration.py has the reasons)."""

    kernel_floor_us: float  # fixed cost of one kernel in a decode step, us
    kernels_per_layer: int  # kernels of one dense decoder layer
    allreduce_us: float  # latency of one small all-reduce over the NVLink GPUs, us


EAGER = GpuSoftware(KERNEL_FLOOR_US, KERNELS_PER_LAYER, ALLREDUCE_LATENCY_US)
FUSED = GpuSoftware(FUSED_KERNEL_FLOOR_US, FUSED_KERNELS_PER_LAYER, FUSED_ALLREDUCE_LATENCY_US)


def _kernel_us(profile: GpuProfile, sw: GpuSoftware, weight_bytes: float, macs: float, flops: float) -> float:
    """One GEMM-like kernel on one GPU: floor + the slower of streaming and computing."""
    memory = weight_bytes / (profile.hbm_bytes_per_s * HBM_EFFICIENCY)
    compute = 2 * macs / (flops * TENSOR_EFFICIENCY)
    return sw.kernel_floor_us + max(memory, compute) * 1e6


def _allreduce_us(profile: GpuProfile, sw: GpuSoftware, payload_bytes: float) -> float:
    g = profile.tp
    if g == 1:
        return 0.0
    return sw.allreduce_us + 2 * (g - 1) / g * payload_bytes / profile.link_bytes_per_s * 1e6


@dataclass(frozen=True)
class GpuStep:
    """Microseconds of one forward step on the GPUs."""

    layers_us: float  # all decoder layers: GEMMs, attention, small kernels
    allreduce_us: float  # tensor-parallel all-reduces and expert all-to-alls of all layers
    vocab_us: float  # embedding, final norm, LM head, sampling
    inter_node_us: float  # hops between pipeline nodes

    @property
    def total_us(self) -> float:
        return self.layers_us + self.allreduce_us + self.vocab_us + self.inter_node_us


def _moe_ffn_us(shape: ModelShape, profile: GpuProfile, sw: GpuSoftware, strategy: str, tokens: int,
               flops: float) -> tuple[float, float]:
    """(kernels us, communication us) of one MoE layer's FFN for `tokens` tokens."""
    bpp = shape.weight_bytes_per_param
    e, k, p = shape.experts, shape.experts_per_token, shape.expert_params
    touched = e * (1 - (1 - k / e) ** tokens)  # distinct experts the tokens reach
    shared = 3 * shape.hidden * shape.shared_ffn
    router = _kernel_us(profile, sw, shape.hidden * e * bpp / profile.tp, shape.hidden * e * tokens / profile.tp, flops)
    payload = shape.hidden * _ACTIVATION_BYTES * tokens
    if strategy == EXPERT_PARALLEL:
        g = profile.gpus
        load = min(e / g, max(expected_max_load(e, k, g), touched / g))  # experts the busiest GPU runs
        macs = load * p * max(1.0, tokens * k / e)  # each expert sees its share of the tokens
        experts = 2 * _kernel_us(profile, sw, load * p * bpp / 2, macs / 2, flops)
        if shared:
            experts += _kernel_us(profile, sw, shared * bpp / profile.tp, shared * tokens / profile.tp, flops)
        # dispatch and combine: two all-to-alls, each sending the token to (and back from) k GPUs
        comm = 2 * (sw.allreduce_us + k * payload / profile.link_bytes_per_s * 1e6)
        return router + experts, comm
    g = profile.tp
    weights = (touched * p + shared) * bpp / g
    macs = (k * p + shared) * tokens / g
    return router + 2 * _kernel_us(profile, sw, weights / 2, macs / 2, flops), _allreduce_us(profile, sw, payload)


def gpu_step(shape: ModelShape, profile: GpuProfile, placement: GpuPlacement, context_tokens: int, tokens: int = 1,
             software: GpuSoftware = EAGER) -> GpuStep:
    """One forward step for `tokens` tokens (1 in decode, k+1 when verifying drafts, the prompt in prefill)."""
    g, sw = profile.tp, software
    bpp = shape.weight_bytes_per_param
    flops = profile.flops(compute_class(shape.weights, profile.native))

    def gemm(params: float) -> float:  # a weight GEMM split over the tensor-parallel GPUs
        return _kernel_us(profile, sw, params * bpp / g, params * tokens / g, flops)

    o_params = shape.heads * (shape.v_head_dim or shape.head_dim) * shape.hidden
    attn = gemm(shape.attn_params - o_params) + gemm(o_params)
    attn_macs = shape.attention_macs_per_token * shape.attended(context_tokens) * tokens / g
    attn += _kernel_us(profile, sw, shape.kv_bytes_layer(context_tokens) / g, attn_macs, flops)
    attn += max(0, sw.kernels_per_layer - 5) * sw.kernel_floor_us
    payload = shape.hidden * _ACTIVATION_BYTES * tokens
    dense_ffn = 2 * gemm(3 * shape.hidden * shape.ffn / 2)  # gate/up, then down
    layers_us = shape.layers * attn + shape.dense_layers * dense_ffn
    comm_us = (shape.layers + shape.dense_layers) * _allreduce_us(profile, sw, payload)
    if shape.is_moe:
        kernels, comm = _moe_ffn_us(shape, profile, sw, placement.strategy, tokens, flops)
        layers_us += shape.moe_layers * (kernels + KERNELS_PER_MOE_LAYER * sw.kernel_floor_us)
        comm_us += shape.moe_layers * comm
    vocab = gemm(shape.vocab_params)
    vocab += (KERNELS_PER_TOKEN - 1) * sw.kernel_floor_us
    vocab += _allreduce_us(profile, sw, shape.vocab * _ACTIVATION_BYTES / g)
    hop = INTER_DEVICE_LATENCY_US + payload / INTER_NODE_BYTES_PER_S * 1e6
    return GpuStep(layers_us=layers_us, allreduce_us=comm_us, vocab_us=vocab, inter_node_us=(placement.nodes - 1) * hop)


def best_gpu_placement(shape: ModelShape, profile: GpuProfile, context_tokens: int, sequences: int,
                       decode_ctx: int, tokens: int, strategy: str | None = None,
                       software: GpuSoftware = EAGER) -> GpuPlacement:
    """Tensor-parallel, or for an MoE model on several GPUs whichever of tensor- and expert-parallel
    experts makes the step shorter (unless `strategy` names one)."""
    if strategy is not None:
        return place_gpu(shape, profile, context_tokens, sequences, strategy)
    options = [place_gpu(shape, profile, context_tokens, sequences)]
    if shape.is_moe and profile.gpus > 1:
        options.append(place_gpu(shape, profile, context_tokens, sequences, EXPERT_PARALLEL))
    return min(options, key=lambda p: gpu_step(shape, profile, p, decode_ctx, tokens, software).total_us)
