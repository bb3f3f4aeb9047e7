"""One entry point: pair a hardware profile with a model shape and predict when tokens appear.

    emu = emulation("wse-3", "llama-3.1-70b", prompt_tokens=900)
    emu.ttft_ms, emu.ttft_parts, emu.per_token_ms, emu.release_ms(n), emu.placement, emu.step_phases()
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import calibration as cal
from .gpu_timing import EAGER, FUSED, GpuPlacement, best_gpu_placement, gpu_step
from .moe import ExpertPlacement, wafer_expert_placement
from .placement import PIPELINED, STRATEGIES, WAFER_WIDE, WaferPlacement, place
from .presets import resolve_shape
from .profiles import GpuProfile, LocalProfile, WaferProfile, get_profile
from .serving import SERVING_STACKS, TRANSPORTS, ServingOptions
from .shapes import ModelShape, default_context
from .speculation import DRAFT, Speculation, eagle_head
from .timing import cycles_to_us, embed_cycles, layer_cycles, vocab_cycles, words

INTERACTIVE = "interactive"
BATCH = "batch"
WORKLOADS = (INTERACTIVE, BATCH)
__all__ = ["BATCH", "Emulation", "INTERACTIVE", "SERVING_STACKS", "ServingOptions", "TRANSPORTS", "WORKLOADS",
           "emulation"]


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
    ttft_ms: float  # request arrival (as the client sends it) to first token, ms
    step_ms: float  # one plain decode step incl. host overhead, ms
    tokens_per_step: float  # expected tokens a paced step emits (speculation > 1)
    placement: WaferPlacement | GpuPlacement | None  # where the layers live
    breakdown_us: dict = field(default_factory=dict)  # per-step components, us
    phases: tuple = ()  # (kind, layer, duration_us) of one plain step, in order
    shape: ModelShape | None = None  # the emulated model's shape
    ttft_parts: dict = field(default_factory=dict)  # network_ms, queue_setup_ms, prefill_ms, first_step_ms
    speculation: Speculation | None = None  # how the paced stream speculates (None: it does not)
    spec_step_ms: float | None = None  # one draft-and-verify step incl. host overhead, ms
    draft_placement: WaferPlacement | GpuPlacement | None = None  # where the draft model lives
    experts: ExpertPlacement | None = None  # where the routed experts live (MoE models)

    @property
    def per_token_ms(self) -> float:  # mean gap between paced tokens, ms
        if not self.paced:
            return 0.0
        if self.speculation is not None and self.spec_step_ms:
            return self.spec_step_ms / self.tokens_per_step
        return self.step_ms

    @property
    def decode_tok_s(self) -> float | None:  # without speculation
        return 1000.0 / self.step_ms if self.paced and self.step_ms > 0 else None

    @property
    def decode_tok_s_speculative(self) -> float | None:  # with speculation, when asked
        if not self.paced or self.speculation is None or not self.spec_step_ms:
            return None
        return 1000.0 * self.tokens_per_step / self.spec_step_ms

    @property
    def paced_tok_s(self) -> float | None:  # the rate the stream is released at
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
        from .report import summarize

        return summarize(self)


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
    head_us = cycles_to_us(profile, vocab_cycles(shape, profile, head.w, head.h, tokens))
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


def _software(serving: ServingOptions):
    return FUSED if serving.serving_stack == "overlapped" else EAGER


def _device_step(shape, profile, placement, decode_ctx, tokens, serving):
    """(phases, breakdown) of one forward step of `tokens` tokens on the accelerator alone."""
    if isinstance(profile, WaferProfile):
        phases, breakdown, _ = _wafer_step(shape, profile, placement, decode_ctx, tokens)
        return phases, breakdown
    step = gpu_step(shape, profile, placement, decode_ctx, tokens, _software(serving))
    per_layer = (step.layers_us + step.allreduce_us) / shape.layers
    per_node = -(-shape.layers // placement.nodes)
    hop_us = step.inter_node_us / max(1, placement.nodes - 1)
    phases = []
    for i in range(shape.layers):
        if i and i % per_node == 0:
            phases.append(("hop", -1, hop_us))
        phases.append(("layer", i, per_layer))
    phases.append(("head", -1, step.vocab_us))
    breakdown = {"layers_us": step.layers_us, "allreduce_us": step.allreduce_us, "vocab_us": step.vocab_us,
                 "inter_node_us": step.inter_node_us}
    return phases, breakdown


def _draft_us(spec, target, profile, context, decode_ctx, serving):
    """(placement, microseconds of drafting k tokens) for the drafter on the same profile: on a
    wafer profile it gets wafers of its own; on GPUs it shares the target's GPUs."""
    draft = resolve_shape(spec.draft) if spec.method == DRAFT else eagle_head(target)
    draft = draft.with_precision(weights=target.weight_precision, kv=target.kv_precision)
    if isinstance(profile, WaferProfile):
        placement = place(draft, profile, PIPELINED, context, 1)
        step = sum(d for _, _, d in _wafer_step(draft, profile, placement, decode_ctx, 1)[0])
        hop = cal.INTER_DEVICE_LATENCY_US  # the accepted tokens' hidden state / ids cross to the drafter
    else:
        placement = best_gpu_placement(draft, profile, context, 1, decode_ctx, 1, software=_software(serving))
        step = gpu_step(draft, profile, placement, decode_ctx, 1, _software(serving)).total_us
        hop = 0.0
    return placement, spec.draft_tokens * step + hop


def emulation(
    profile_name: str,
    shape: ModelShape | str,
    prompt_tokens: int,
    *,
    wafers: int | None = None,
    speculation_acceptance: float = 0.0,
    speculation: Speculation | None = None,
    workload: str = INTERACTIVE,
    strategy: str | None = None,
    context_tokens: int | None = None,
    sequences: int | None = None,
    serving: ServingOptions | None = None,
    weight_bits: int | None = None,
    weight_precision: str | None = None,
    kv_precision: str | None = None,
) -> Emulation:
    """Predict TTFT, decode speed and placement of `shape` on the profile `profile_name`.

    `speculation_acceptance` > 0 alone means EAGLE heads with SPECULATION_DRAFT_TOKENS drafts.
    """
    profile = get_profile(profile_name)
    shape = resolve_shape(shape)
    if weight_bits is not None or weight_precision is not None or kv_precision is not None:
        shape = shape.with_precision(weights=weight_precision or weight_bits, kv=kv_precision)
    serving = serving or ServingOptions()
    if not isinstance(prompt_tokens, int) or prompt_tokens < 0:
        raise ValueError(f"prompt_tokens must be a non-negative integer, got {prompt_tokens!r}")
    if speculation is None and speculation_acceptance:
        speculation = Speculation(draft_tokens=cal.SPECULATION_DRAFT_TOKENS, acceptance=float(speculation_acceptance))
    elif not 0.0 <= float(speculation_acceptance) < 1.0:
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
    new_prompt = prompt_tokens - (min(serving.cached_prompt_tokens, prompt_tokens) if serving.prewarm else 0)
    new_prompt = max(1, new_prompt)

    experts = None
    if isinstance(profile, WaferProfile):
        placement, reason = _choose_strategy(
            shape, profile, context, sequences, wafers, workload, strategy, decode_ctx, 1
        )
        prefill_us = _wafer_prefill_us(shape, profile, placement, new_prompt)
        experts = wafer_expert_placement(shape, placement.tiles_per_layer)
    else:
        assert isinstance(profile, GpuProfile)
        if strategy is not None and strategy not in ("tensor-parallel", "expert-parallel"):
            raise ValueError(f"{profile.name} runs tensor- or expert-parallel; strategy {strategy!r} applies to wafers")
        sw = _software(serving)
        placement = best_gpu_placement(shape, profile, context, sequences, decode_ctx, 1, strategy, sw)
        prefill_us = gpu_step(shape, profile, placement, max(1, new_prompt // 2), new_prompt, sw).total_us
        reason = f"{placement.gpus} GPU(s): every layer split over {profile.tp} GPUs"
        if placement.strategy == "expert-parallel":
            reason += f", experts spread whole over all {profile.gpus} ({placement.experts_per_gpu:g} per GPU)"
        if placement.nodes > 1:
            reason += f", layers split over {placement.nodes} nodes"
    phases, breakdown = _device_step(shape, profile, placement, decode_ctx, 1, serving)
    device_us = sum(d for _, _, d in phases)
    host_us = serving.host_phase_us(device_us)
    phases = [*phases, ("host", -1, host_us)]
    breakdown["host_us"] = host_us

    spec_step_ms, draft_placement, tokens_per_step = None, None, 1.0
    if speculation is not None:
        draft_placement, draft_us = _draft_us(speculation, shape, profile, context, decode_ctx, serving)
        verify_phases, _ = _device_step(shape, profile, placement, decode_ctx, speculation.draft_tokens + 1, serving)
        verify_us = sum(d for _, _, d in verify_phases)
        spec_step_ms = serving.step_us(draft_us + verify_us) / 1000.0
        tokens_per_step = speculation.tokens_per_step
        breakdown["draft_us"] = draft_us
        breakdown["verify_us"] = verify_us

    parts = serving.ttft_parts(prefill_us)
    return Emulation(
        profile=profile.name,
        profile_label=profile.label,
        model=shape.name,
        paced=True,
        strategy=placement.strategy,
        reason=reason,
        prompt_tokens=prompt_tokens,
        ttft_ms=sum(parts.values()),
        step_ms=sum(d for _, _, d in phases) / 1000.0,
        tokens_per_step=tokens_per_step,
        placement=placement,
        breakdown_us=breakdown,
        phases=tuple(phases),
        shape=shape,
        ttft_parts=parts,
        speculation=speculation,
        spec_step_ms=spec_step_ms,
        draft_placement=draft_placement,
        experts=experts,
    )
