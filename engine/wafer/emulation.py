"""One entry point: pair a hardware profile with a model shape and predict when tokens appear.

    emu = emulation("wse-3", "llama-3.1-70b", prompt_tokens=900)
    emu.ttft_ms, emu.per_token_ms, emu.release_ms(n), emu.placement, emu.step_phases()
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import calibration as cal
from .gpu_timing import GpuPlacement, gpu_step, place_gpu
from .placement import PIPELINED, STRATEGIES, WAFER_WIDE, WaferPlacement, place
from .profiles import GpuProfile, LocalProfile, WaferProfile, get_profile
from .shapes import ModelShape, default_context, resolve_shape
from .timing import cycles_to_us, embed_cycles, layer_cycles, vocab_cycles, words

INTERACTIVE = "interactive"
BATCH = "batch"
WORKLOADS = (INTERACTIVE, BATCH)
TRANSPORTS = ("websocket", "http")
SERVING_STACKS = ("2024", "optimized")


@dataclass(frozen=True)
class ServingOptions:
    """Transport and session switches that sit around the accelerator."""

    transport: str = "websocket"  # "websocket": persistent; "http": a new connection per request
    prewarm: bool = True  # document prefix prefilled when the session opened
    serving_stack: str = "2024"  # "2024" or "optimized" (30% less per-token serving overhead)
    network_rtt_ms: float = 0.0  # client-to-engine round trip, ms (0: the engine's own clock)
    cached_prompt_tokens: int = 0  # prompt tokens already in the KV cache when prewarmed

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, got {self.transport!r}")
        if self.serving_stack not in SERVING_STACKS:
            raise ValueError(f"serving_stack must be one of {', '.join(SERVING_STACKS)}, got {self.serving_stack!r}")
        if self.network_rtt_ms < 0 or self.cached_prompt_tokens < 0:
            raise ValueError("network_rtt_ms and cached_prompt_tokens must not be negative")

    @property
    def step_overhead_us(self) -> float:  # host work around every forward step
        factor = cal.OPTIMIZED_SERVING_FACTOR if self.serving_stack == "optimized" else 1.0
        return cal.HOST_SYNC_US + cal.SERVING_OVERHEAD_US * factor

    @property
    def request_overhead_ms(self) -> float:  # once per request, before prefill starts
        trips = 1 + (cal.HTTP_EXTRA_ROUND_TRIPS if self.transport == "http" else 0)
        return trips * self.network_rtt_ms + (0.0 if self.prewarm else cal.SESSION_SETUP_MS)


@dataclass(frozen=True)
class Emulation:
    """A profile x model pairing: predicted timing, placement and the phases of one step."""

    profile: str  # profile name
    profile_label: str  # human name of the profile
    model: str  # model shape name
    paced: bool  # False for "local": tokens go out as computed
    strategy: str | None  # placement strategy (None for local)
    reason: str  # why the scheduler chose it
    prompt_tokens: int  # prompt length the TTFT is for, tokens
    ttft_ms: float  # request arrival to first token, ms
    step_ms: float  # one forward step incl. host overhead, ms
    tokens_per_step: float  # expected tokens a step emits (speculation > 1)
    placement: WaferPlacement | GpuPlacement | None  # where the layers live
    breakdown_us: dict = field(default_factory=dict)  # per-step components, us
    phases: tuple = ()  # (kind, layer, duration_us) of one step, in order
    shape: ModelShape | None = None  # the emulated model's shape

    @property
    def per_token_ms(self) -> float:  # mean gap between generated tokens, ms
        return self.step_ms / self.tokens_per_step if self.paced else 0.0

    @property
    def decode_tok_s(self) -> float | None:
        return 1000.0 / self.per_token_ms if self.paced and self.per_token_ms > 0 else None

    def release_ms(self, index: int) -> float:
        """Emulated time (ms since request arrival) at which token `index` (0-based) is out."""
        if index < 0:
            raise ValueError("token index must be >= 0")
        if not self.paced:
            return 0.0
        return self.ttft_ms + index * self.per_token_ms

    def step_phases(self) -> tuple:
        return self.phases

    def summary(self) -> dict:
        """The JSON-able record the CLI prints and the app may show."""
        p = self.placement
        out = {
            "profile": self.profile,
            "model": self.model,
            "paced": self.paced,
            "strategy": self.strategy,
            "reason": self.reason,
            "prompt_tokens": self.prompt_tokens,
            "decode_tok_s": round(self.decode_tok_s, 1) if self.decode_tok_s else None,
            "per_token_ms": round(self.per_token_ms, 4),
            "ttft_ms": round(self.ttft_ms, 3),
            "tokens_per_step": round(self.tokens_per_step, 3),
            "wafers": None,
            "tiles_per_layer": None,
            "sram_utilization": None,
            "breakdown_us": {k: round(v, 2) for k, v in self.breakdown_us.items()},
        }
        if isinstance(p, WaferPlacement):
            out.update(
                wafers=p.wafers,
                tiles_per_layer=p.tiles_per_layer,
                region_tiles=[p.layer_w, p.layer_h],
                layers_per_wafer=list(p.layers_per_wafer),
                sram_utilization=round(p.sram_utilization, 4),
                context_tokens=p.context_tokens,
            )
        elif isinstance(p, GpuPlacement):
            out.update(
                gpus=p.gpus, nodes=p.nodes, memory_utilization=round(p.memory_utilization, 4),
                context_tokens=p.context_tokens,
            )
        return out


# --- wafer step -------------------------------------------------------------------------------


def _vocab_regions(placement: WaferPlacement):
    embed = next(r for r in placement.regions if r.kind in ("embed", "vocab"))
    head = next(r for r in placement.regions if r.kind in ("head", "vocab"))
    return embed, head


def _wafer_step(shape, profile, placement, context_tokens, tokens=1):
    """Accelerator microseconds of one step and its phases; layers run one after another."""
    pipelined = placement.strategy == PIPELINED
    lc = layer_cycles(shape, profile, placement.layer_w, placement.layer_h, context_tokens, tokens, pipelined)
    embed, head = _vocab_regions(placement)
    layer_us = cycles_to_us(profile, lc.total)
    embed_us = cycles_to_us(profile, embed_cycles(shape, profile, embed.w, embed.h, tokens))
    head_us = cycles_to_us(profile, vocab_cycles(shape, profile, head.w, head.h))
    hop_us = cal.INTER_DEVICE_LATENCY_US + shape.hidden * 2 * tokens / profile.link_bytes_per_s * 1e6
    phases = [("embed", -1, embed_us)]
    layer = 0
    for wafer, count in enumerate(placement.layers_per_wafer):
        if wafer:
            phases.append(("hop", -1, hop_us))
        for _ in range(count):
            phases.append(("layer", layer, layer_us))
            layer += 1
    phases.append(("head", -1, head_us))
    breakdown = {
        "layers_us": shape.layers * layer_us,
        "layer_compute_us": shape.layers * cycles_to_us(profile, max(lc.compute, lc.sram)),
        "layer_collectives_us": shape.layers * cycles_to_us(profile, lc.collectives),
        "layer_handoff_us": shape.layers * cycles_to_us(profile, lc.handoff),
        "vocab_us": embed_us + head_us,
        "inter_wafer_us": (placement.wafers - 1) * hop_us,
    }
    return phases, breakdown, lc


def _wafer_prefill_us(shape, profile, placement, prompt_tokens):
    if placement.strategy == PIPELINED:
        # The first token crosses the whole pipeline; the rest follow one stage interval apart,
        # their collectives overlapping in the pipeline, their SIMD work and payloads not.
        phases, _, _ = _wafer_step(shape, profile, placement, prompt_tokens)
        latency = sum(d for _, _, d in phases)
        lc = layer_cycles(shape, profile, placement.layer_w, placement.layer_h, prompt_tokens // 2)
        interval = max(lc.compute, lc.sram) + words(shape.hidden / placement.layer_h)
        return latency + (prompt_tokens - 1) * cycles_to_us(profile, interval)
    # wafer-wide: each layer is one GEMM over all prompt tokens on the whole square
    phases, _, _ = _wafer_step(shape, profile, placement, prompt_tokens // 2, tokens=prompt_tokens)
    return sum(d for _, _, d in phases)


def _choose_strategy(shape, profile, context, sequences, wafers, workload, strategy, decode_ctx, tokens):
    if strategy is not None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
        return place(shape, profile, strategy, context, sequences, wafers), f"{strategy} requested"
    options, errors = {}, []
    for name in STRATEGIES:
        try:
            options[name] = place(shape, profile, name, context, sequences, wafers)
        except ValueError as exc:
            errors.append(str(exc))
    if not options:
        raise ValueError("; ".join(dict.fromkeys(errors)))
    step_us = {
        name: sum(d for _, _, d in _wafer_step(shape, profile, p, decode_ctx, tokens)[0]) for name, p in options.items()
    }
    if workload == BATCH and PIPELINED in options:
        p = options[PIPELINED]
        reason = (
            f"batch: layer-pipelined keeps all {shape.layers} layer regions busy with different sequences "
            f"at once; wafer-wide runs one layer at a time on {p.wafers} wafer(s)"
        )
        return p, reason
    best = min(step_us, key=step_us.get)
    if len(options) == 1:
        return options[best], f"only {best} fits ({errors[0]})"
    other = WAFER_WIDE if best == PIPELINED else PIPELINED
    why = (
        "reductions across the full-wafer square cost more hops than the extra SIMD work on smaller regions"
        if best == PIPELINED
        else "spreading each layer over the whole square shortens its GEMVs more than the longer reductions cost"
    )
    reason = (
        f"{workload} stream: {best} takes {step_us[best]:.1f} us per step vs {step_us[other]:.1f} us "
        f"for {other}; {why}"
    )
    return options[best], reason


# --- entry point ------------------------------------------------------------------------------


def emulation(
    profile_name: str,
    shape: ModelShape | str,
    prompt_tokens: int,
    *,
    wafers: int | None = None,
    speculation_acceptance: float = 0.0,
    workload: str = INTERACTIVE,
    strategy: str | None = None,
    context_tokens: int | None = None,
    sequences: int | None = None,
    serving: ServingOptions | None = None,
    weight_bits: int | None = None,
) -> Emulation:
    """Predict TTFT, decode speed and placement of `shape` on the profile `profile_name`."""
    profile = get_profile(profile_name)
    shape = resolve_shape(shape)
    if weight_bits is not None:
        shape = shape.with_bits(weight_bits)
    serving = serving or ServingOptions()
    if not isinstance(prompt_tokens, int) or prompt_tokens < 0:
        raise ValueError(f"prompt_tokens must be a non-negative integer, got {prompt_tokens!r}")
    if not 0.0 <= float(speculation_acceptance) < 1.0:
        raise ValueError(f"speculation acceptance must be in [0, 1), got {speculation_acceptance!r}")
    if workload not in WORKLOADS:
        raise ValueError(f"workload must be one of {', '.join(WORKLOADS)}, got {workload!r}")
    if isinstance(profile, LocalProfile):
        return Emulation(
            profile.name, profile.label, shape.name, False, None, "this machine: no pacing",
            prompt_tokens, 0.0, 0.0, 1.0, None, shape=shape,
        )
    if wafers is not None and not isinstance(profile, WaferProfile):
        raise ValueError(f"--wafers applies to wafer profiles, not {profile.name}")

    if prompt_tokens > shape.max_context:
        raise ValueError(f"prompt of {prompt_tokens} tokens exceeds {shape.name}'s context of {shape.max_context}")
    if context_tokens is None:
        context = min(shape.max_context, max(default_context(shape), prompt_tokens))
    elif not isinstance(context_tokens, int) or not prompt_tokens <= context_tokens <= shape.max_context:
        raise ValueError(
            f"context_tokens must be between the prompt ({prompt_tokens}) and {shape.name}'s context "
            f"({shape.max_context}), got {context_tokens!r}"
        )
    else:
        context = context_tokens
    if wafers is not None and (not isinstance(wafers, int) or not 1 <= wafers <= shape.layers):
        raise ValueError(f"wafers must be between 1 and {shape.layers} (the layers of {shape.name}), got {wafers!r}")
    sequences = sequences or (shape.layers if workload == BATCH else 1)
    decode_ctx = max(1, min(prompt_tokens, context))

    alpha = float(speculation_acceptance)
    k = cal.SPECULATION_DRAFT_TOKENS if alpha > 0 else 0
    tokens_per_step = (1 - alpha ** (k + 1)) / (1 - alpha) if alpha > 0 else 1.0
    step_tokens = k + 1

    new_prompt = prompt_tokens - (min(serving.cached_prompt_tokens, prompt_tokens) if serving.prewarm else 0)
    new_prompt = max(1, new_prompt)

    if isinstance(profile, WaferProfile):
        placement, reason = _choose_strategy(
            shape, profile, context, sequences, wafers, workload, strategy, decode_ctx, step_tokens
        )
        phases, breakdown, _ = _wafer_step(shape, profile, placement, decode_ctx, step_tokens)
        prefill_us = _wafer_prefill_us(shape, profile, placement, new_prompt)
        strategy_name = placement.strategy
    else:
        assert isinstance(profile, GpuProfile)
        if strategy is not None and strategy != "tensor-parallel":
            raise ValueError(f"{profile.name} runs tensor-parallel; strategy {strategy!r} applies to wafers")
        placement = place_gpu(shape, profile, context, sequences)
        step = gpu_step(shape, profile, placement, decode_ctx, step_tokens)
        per_layer = (step.layers_us + step.allreduce_us) / shape.layers
        per_node = -(-shape.layers // placement.nodes)
        hop_us = step.inter_node_us / max(1, placement.nodes - 1)
        phases = []
        for i in range(shape.layers):
            if i and i % per_node == 0:
                phases.append(("hop", -1, hop_us))
            phases.append(("layer", i, per_layer))
        phases.append(("head", -1, step.vocab_us))
        breakdown = {
            "layers_us": step.layers_us,
            "allreduce_us": step.allreduce_us,
            "vocab_us": step.vocab_us,
            "inter_node_us": step.inter_node_us,
        }
        prefill_us = gpu_step(shape, profile, placement, max(1, new_prompt // 2), new_prompt).total_us
        strategy_name = placement.strategy
        reason = f"{placement.gpus} GPU(s): every layer split over the {profile.gpus} GPUs of a node"
        if placement.nodes > 1:
            reason += f", layers split over {placement.nodes} nodes"

    host_us = serving.step_overhead_us
    phases = list(phases) + [("host", -1, host_us)]
    breakdown["host_us"] = host_us
    step_us = sum(d for _, _, d in phases)
    ttft_ms = serving.request_overhead_ms + (prefill_us + host_us) / 1000.0
    return Emulation(
        profile=profile.name,
        profile_label=profile.label,
        model=shape.name,
        paced=True,
        strategy=strategy_name,
        reason=reason,
        prompt_tokens=prompt_tokens,
        ttft_ms=ttft_ms,
        step_ms=step_us / 1000.0,
        tokens_per_step=tokens_per_step,
        placement=placement,
        breakdown_us=breakdown,
        phases=tuple(phases),
        shape=shape,
    )
