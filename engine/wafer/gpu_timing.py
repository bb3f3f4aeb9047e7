"""GPU-node timing: a roofline per kernel plus tensor-parallel all-reduces.

Each GEMM streams its share of the weights from HBM (memory roof) or, with many tokens, is bound
by the tensor cores (compute roof); every kernel also pays a fixed floor. Tensor parallelism over
the node's GPUs divides weights and work and adds two all-reduces per layer. A model larger than a
node is split layer-wise over several nodes (pipeline), paying one inter-node hop per boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .calibration import (
    ALLREDUCE_LATENCY_US,
    HBM_EFFICIENCY,
    INTER_DEVICE_LATENCY_US,
    KERNEL_FLOOR_US,
    KERNELS_PER_LAYER,
    KERNELS_PER_TOKEN,
    TENSOR_EFFICIENCY,
    USABLE_HBM_FRACTION,
)
from .profiles import GpuProfile
from .shapes import ModelShape

TENSOR_PARALLEL = "tensor-parallel"
INTER_NODE_BYTES_PER_S = 50e9  # InfiniBand NDR, 400 Gb/s per GPU-node link
_ACTIVATION_BYTES = 2


@dataclass(frozen=True)
class GpuPlacement:
    """How the model is spread over GPUs (one record, every field with its unit)."""

    strategy: str  # always TENSOR_PARALLEL within a node
    profile: str  # profile name
    nodes: int  # nodes used, layers split evenly between them
    gpus_per_node: int  # GPUs sharing every layer
    memory_needed_bytes: float  # weights + KV cache, bytes
    memory_total_bytes: float  # HBM of all GPUs used, bytes
    context_tokens: int  # KV cache sized for this many tokens per sequence
    sequences: int  # sequences whose KV cache is reserved

    @property
    def gpus(self) -> int:
        return self.nodes * self.gpus_per_node

    @property
    def memory_utilization(self) -> float:
        return self.memory_needed_bytes / self.memory_total_bytes


def place_gpu(shape: ModelShape, profile: GpuProfile, context_tokens: int, sequences: int = 1) -> GpuPlacement:
    need = shape.weight_bytes + shape.layers * shape.kv_bytes_per_token_layer * context_tokens * sequences
    per_node = profile.gpus * profile.hbm_bytes * USABLE_HBM_FRACTION
    nodes = max(1, math.ceil(need / per_node))
    if nodes > shape.layers:
        raise ValueError(f"{shape.name} cannot be placed on {profile.name}: a layer exceeds one node's memory")
    return GpuPlacement(
        TENSOR_PARALLEL, profile.name, nodes, profile.gpus, need, nodes * profile.gpus * profile.hbm_bytes,
        context_tokens, sequences,
    )


def _kernel_us(profile: GpuProfile, weight_bytes: float, macs: float) -> float:
    """One GEMM-like kernel on one GPU: floor + the slower of streaming and computing."""
    memory = weight_bytes / (profile.hbm_bytes_per_s * HBM_EFFICIENCY)
    compute = 2 * macs / (profile.tensor_flops * TENSOR_EFFICIENCY)
    return KERNEL_FLOOR_US + max(memory, compute) * 1e6


def _allreduce_us(profile: GpuProfile, payload_bytes: float) -> float:
    g = profile.gpus
    if g == 1:
        return 0.0
    return ALLREDUCE_LATENCY_US + 2 * (g - 1) / g * payload_bytes / profile.link_bytes_per_s * 1e6


@dataclass(frozen=True)
class GpuStep:
    """Microseconds of one forward step on the GPU nodes."""

    layers_us: float  # all decoder layers: GEMMs, attention, small kernels
    allreduce_us: float  # tensor-parallel all-reduces of all layers
    vocab_us: float  # embedding, final norm, LM head, sampling
    inter_node_us: float  # hops between pipeline nodes

    @property
    def total_us(self) -> float:
        return self.layers_us + self.allreduce_us + self.vocab_us + self.inter_node_us


def gpu_step(shape: ModelShape, profile: GpuProfile, placement: GpuPlacement, context_tokens: int, tokens: int = 1) -> GpuStep:
    """One forward step for `tokens` tokens (1 in decode, the prompt in prefill)."""
    g = profile.gpus
    bpp = shape.weight_bytes_per_param
    layer = 0.0
    for d_in, d_out in shape.gemv_phases():
        layer += _kernel_us(profile, d_in * d_out * bpp / g, d_in * d_out * tokens / g)
    kv_bytes = shape.kv_bytes_per_token_layer * max(0, context_tokens) / g
    attn_macs = 2 * shape.heads * shape.head_dim * max(0, context_tokens) * tokens / g
    layer += _kernel_us(profile, kv_bytes, attn_macs)
    layer += (KERNELS_PER_LAYER - len(shape.gemv_phases()) - 1) * KERNEL_FLOOR_US
    allreduce = 2 * _allreduce_us(profile, shape.hidden * _ACTIVATION_BYTES * tokens)
    vocab = _kernel_us(profile, shape.vocab_params * bpp / g, shape.vocab_params / g)
    vocab += (KERNELS_PER_TOKEN - 1) * KERNEL_FLOOR_US + _allreduce_us(profile, shape.vocab * _ACTIVATION_BYTES / g)
    hop = INTER_DEVICE_LATENCY_US + shape.hidden * _ACTIVATION_BYTES * tokens / INTER_NODE_BYTES_PER_S * 1e6
    return GpuStep(
        layers_us=shape.layers * layer,
        allreduce_us=shape.layers * allreduce,
        vocab_us=vocab,
        inter_node_us=(placement.nodes - 1) * hop,
    )
