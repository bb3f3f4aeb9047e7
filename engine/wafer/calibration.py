"""The timing model's shared calibration constants, each with the reason for its value.

Every profile and every validation row uses these same numbers; none is set per row. The hardware
figures themselves (bandwidths, clocks, SIMD widths) live in profiles.py with their sources.
"""

# --- wafer ------------------------------------------------------------------------------------

# Share of a tile's 48 kB SRAM that can hold weights and KV cache. The rest holds the tile's
# program, task tables, fabric receive buffers and activations (WaferLLM's WSE-3 build runs out of
# "PE memory for task table" and ".bss" before weights fill the tile). The floor is set by what
# Cerebras serves: Llama 3.1 70B at 16 bits on four CS-3 systems ("70B models fit on as few as four
# systems", Cerebras, Aug 2024) needs 141 GB of weights and 2.7 GB of 8k-token KV cache in 4 x 43.4 GB,
# 83% of the tiles' SRAM before the packing of layer rectangles; 85% leaves that packing its room.
USABLE_SRAM_FRACTION = 0.85

# Cycles one stage of a tree reduction or broadcast costs beyond the hops themselves: a
# wavelet-triggered task wakes, adds (or copies) its vector slice and forwards it. Task activation
# plus a short vector op is a few tens of cycles on the WSE core; 20 is the middle of that range.
REDUCTION_STAGE_CYCLES = 20

# --- GPU --------------------------------------------------------------------------------------

# Fraction of peak HBM bandwidth a decode GEMV streams at. Bandwidth microbenchmarks and
# memory-bound GEMV kernels on H100 reach 80-90% of the datasheet figure; the low end is taken
# because decode kernels are short.
HBM_EFFICIENCY = 0.80

# Fraction of peak tensor throughput a prefill GEMM reaches (model FLOPs utilisation of
# well-tuned prefill is 50-70% on H100).
TENSOR_EFFICIENCY = 0.60

# Fixed cost of one kernel in a decode step: launch, prologue/epilogue, the tail of the last wave
# and the dependency on the previous kernel. Kernels that move only kilobytes still take ~5 us in
# decode timelines of 2024 serving stacks on H100.
KERNEL_FLOOR_US = 5.0

# Kernels in one decoder layer's decode step: RMSNorm, QKV GEMM, RoPE, attention, O GEMM,
# residual+RMSNorm, gate/up GEMM, SiLU*mul, down GEMM, residual add.
KERNELS_PER_LAYER = 10
# Kernels outside the layers: embedding gather, final norm, LM head GEMM, sampling.
KERNELS_PER_TOKEN = 4

# Latency of one small (kilobytes) all-reduce across 8 GPUs over NVLink. NCCL's low-latency
# protocol takes 10-20 us for a few kB on 8-GPU NVLink nodes (nccl-tests all_reduce_perf); the
# custom all-reduce kernels serving stacks added later reach ~5 us. The middle of NCCL's range.
ALLREDUCE_LATENCY_US = 15.0

# Share of each GPU's HBM that may hold weights and KV cache (the rest: activations, workspace,
# CUDA context).
USABLE_HBM_FRACTION = 0.90

# --- between devices and to the host ----------------------------------------------------------

# One hop between two wafers (CS-3 to CS-3 over 100 GbE through a switch) or two GPU nodes
# (InfiniBand NDR): switch, SerDes and NIC latency of a few microseconds.
INTER_DEVICE_LATENCY_US = 5.0

# Handing the sampled token to the host and the next step's input back (PCIe or the CS-3's
# Ethernet I/O), once per step.
HOST_SYNC_US = 10.0

# Per-step work of a 2024 public-API serving stack outside the accelerator: scheduling, sampling
# bookkeeping, detokenisation, SSE framing and the network send of each streamed token. vLLM's
# v0.6.0 write-up (Sept 2024) found API server and scheduling took most of a decode step for an
# 8B model on H100; a few hundred microseconds per step is the scale of that work.
SERVING_OVERHEAD_US = 350.0

# The optimised serving stack ("30% less time per token" in the pipeline changes this project
# follows) applied to the serving overhead.
OPTIMIZED_SERVING_FACTOR = 0.70

# --- per request ------------------------------------------------------------------------------

# Admission, tokenisation and KV allocation of a request whose session was not prewarmed.
SESSION_SETUP_MS = 15.0

# Extra network round trips of a fresh HTTPS connection per request (TCP handshake and TLS 1.3)
# compared with a persistent WebSocket, which sends the request in the round trip it needs anyway.
HTTP_EXTRA_ROUND_TRIPS = 2

# Draft tokens verified per step when speculative decoding is emulated.
SPECULATION_DRAFT_TOKENS = 4

# Kernels an MoE layer adds to a decode step: router GEMM, top-k, permute, and the un-permute
# and weighted sum after the grouped expert GEMMs (vLLM's and TensorRT-LLM's fused-MoE paths).
KERNELS_PER_MOE_LAYER = 3

# --- GPU kernels of serving stacks from late 2024 on ("overlapped" serving stack) ---------------
# The whole decode step is one CUDA graph and the all-reduce is fused with the RMSNorm that follows
# it (TensorRT-LLM's AllReduce+RMSNorm fusion and one-shot NVLink all-reduce, NVIDIA's Llama 4
# Maverick write-up, May 2025; vLLM's custom all-reduce). A graph node costs ~2 us of launch and
# tail where a stand-alone launch cost ~5 us; a one-shot all-reduce of a few kB over NVLink ~6 us.
FUSED_KERNEL_FLOOR_US = 2.5
# RMSNorm folds into the all-reduce, RoPE into attention, SiLU*mul into the gate/up GEMM, the
# residual adds into the all-reduce: QKV GEMM, attention, O GEMM, all-reduce+norm, gate/up, down.
FUSED_KERNELS_PER_LAYER = 6
FUSED_ALLREDUCE_LATENCY_US = 6.0
