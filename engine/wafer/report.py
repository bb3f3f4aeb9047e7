"""The JSON-able record of an emulation: what `emulate --json` prints and the app's layout carries."""

from __future__ import annotations

from dataclasses import asdict

from .gpu_timing import GpuPlacement
from .placement import WaferPlacement


def _round(value, digits):
    return round(value, digits) if isinstance(value, (int, float)) else value


def summarize(emu) -> dict:
    """Every figure of `emu` (an Emulation) with its unit in its name."""
    p, shape = emu.placement, emu.shape
    out = {
        "profile": emu.profile,
        "model": emu.model,
        "paced": emu.paced,
        "strategy": emu.strategy,
        "reason": emu.reason,
        "prompt_tokens": emu.prompt_tokens,
        "total_params_b": round(shape.params / 1e9, 3) if shape else None,
        "active_params_b": round(shape.active_params / 1e9, 3) if shape else None,
        "weight_precision": shape.weight_precision if shape else None,
        "kv_precision": shape.kv_precision if shape else None,
        "decode_tok_s": _round(emu.decode_tok_s, 1),
        "decode_tok_s_speculative": _round(emu.decode_tok_s_speculative, 1),
        "per_token_ms": round(emu.per_token_ms, 4),
        "ttft_ms": round(emu.ttft_ms, 3),
        "ttft_parts_ms": {k.removesuffix("_ms"): round(v, 3) for k, v in emu.ttft_parts.items()},
        "tokens_per_step": round(emu.tokens_per_step, 3),
        "speculation": emu.speculation.describe() if emu.speculation else None,
        "wafers": None,
        "tiles_per_layer": None,
        "sram_utilization": None,
        "experts": asdict(emu.experts) if emu.experts else None,
        "breakdown_us": {k: round(v, 2) for k, v in emu.breakdown_us.items()},
    }
    if shape is not None and shape.is_moe and out["experts"] is None:
        out["experts"] = {"experts": shape.experts, "per_token": shape.experts_per_token,
                          "shared": shape.shared_ffn > 0, "moe_layers": shape.moe_layers}
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
        if p.experts_per_gpu:
            out["experts"] = dict(out["experts"] or {}, experts_per_gpu=p.experts_per_gpu)
    d = emu.draft_placement
    if isinstance(d, WaferPlacement):
        out["draft_wafers"] = d.wafers
    elif isinstance(d, GpuPlacement):
        out["draft_gpus"] = d.gpus
    return out
