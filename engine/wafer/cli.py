"""`tessera-engine emulate`: place a model on a hardware profile and print its predicted timing."""

from __future__ import annotations

import argparse
import json
import sys

from .emulation import WORKLOADS, emulation
from .gpu_timing import EXPERT_PARALLEL, TENSOR_PARALLEL
from .placement import STRATEGIES
from .precision import PRECISIONS
from .presets import PRESETS
from .profiles import PROFILES
from .serving import DEPLOYMENTS, SERVING_STACKS, TRANSPORTS, ServingOptions
from .speculation import DRAFT, EAGLE, TYPICAL_ACCEPTANCE, TYPICAL_DRAFT_TOKENS, Speculation

DEFAULT_PROMPT_TOKENS = 512


def add_emulate_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `emulate` sub-command to an argparse subparsers object."""
    presets = ", ".join([*PRESETS, "tessera-edit-mini"])
    p = subparsers.add_parser(
        "emulate",
        help="predict decode speed, TTFT and placement of a model on a hardware profile",
        description="Place a model on a wafer-scale or GPU profile and predict its timing.",
    )
    p.add_argument("--config", required=True, metavar="PRESET_OR_JSON", help=f"model preset ({presets}) or a config.json")
    p.add_argument("--profile", required=True, choices=list(PROFILES), help="hardware profile")
    p.add_argument("--wafers", type=int, default=None, metavar="N", help="wafers to use (default: fewest that fit)")
    p.add_argument("--prompt-tokens", type=int, default=DEFAULT_PROMPT_TOKENS, metavar="N", help="prompt length for TTFT")
    p.add_argument(
        "--speculation-acceptance", type=float, default=None, metavar="X",
        help=f"speculative decoding: probability in [0, 1) that a draft token is accepted "
             f"(default {TYPICAL_ACCEPTANCE} when --draft is given; 0: off)",
    )
    p.add_argument("--draft", default=None, metavar="eagle|PRESET_OR_JSON",
                   help="speculate with EAGLE heads or a draft model, placed and timed on the same profile")
    p.add_argument("--draft-tokens", type=int, default=None, metavar="K",
                   help=f"tokens drafted per verify step (default {TYPICAL_DRAFT_TOKENS})")
    p.add_argument("--strategy", choices=[*STRATEGIES, TENSOR_PARALLEL, EXPERT_PARALLEL], default=None,
                   help="force a placement strategy (wafer: layer-pipelined/wafer-wide; GPU: tensor-/expert-parallel)")
    p.add_argument("--workload", choices=list(WORKLOADS), default="interactive", help="single stream or a batch")
    p.add_argument("--context-tokens", type=int, default=None, metavar="N", help="KV cache size per sequence")
    p.add_argument("--bits", type=int, choices=(16, 8, 4), default=None, help="weight bits (same as --weights)")
    p.add_argument("--weights", choices=list(PRECISIONS), default=None,
                   help="weight precision (default: the checkpoint's; mxfp4 = 4.25 bits)")
    p.add_argument("--kv", choices=list(PRECISIONS), default=None, help="KV-cache precision (default 16)")
    p.add_argument("--deployment", choices=list(DEPLOYMENTS), default="local",
                   help="where the client sits: sets the default round trip (" +
                        ", ".join(f"{k} {v:g} ms" for k, v in DEPLOYMENTS.items()) + ")")
    p.add_argument("--network-rtt-ms", type=float, default=None, metavar="MS", help="client round trip, ms")
    p.add_argument("--transport", choices=list(TRANSPORTS), default="websocket", help="how requests reach the server")
    p.add_argument("--no-prewarm", action="store_true", help="session not prewarmed: pay set-up in TTFT")
    p.add_argument("--serving-stack", choices=list(SERVING_STACKS), default="2024", help="per-token serving overhead")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_emulate)
    return p


def _format_text(s: dict) -> str:
    lines = [f"{s['model']} on {s['profile']}"]
    if not s["paced"]:
        lines.append("local profile: tokens go out as this machine computes them (no pacing);")
        lines.append("measure it with `tessera-engine bench`.")
        return "\n".join(lines)
    lines.append(f"  strategy      {s['strategy']}: {s['reason']}")
    lines.append(f"  parameters    {s['total_params_b']:,.2f} B total, {s['active_params_b']:,.2f} B active per token "
                 f"(weights {s['weight_precision']}, KV {s['kv_precision']})")
    lines.append(f"  decode        {s['decode_tok_s']:,.1f} tok/s without speculation")
    if s["decode_tok_s_speculative"]:
        lines.append(f"  speculative   {s['decode_tok_s_speculative']:,.1f} tok/s ({s['speculation']}; "
                     f"{s['tokens_per_step']:.2f} tokens per verify step)")
    parts = ", ".join(f"{k.replace('_', ' ')} {v:,.2f}" for k, v in s["ttft_parts_ms"].items())
    lines.append(f"  TTFT          {s['ttft_ms']:,.2f} ms for {s['prompt_tokens']} prompt tokens ({parts} ms)")
    if s.get("experts"):
        e = s["experts"]
        where = (f", {e['tiles_per_expert']:,} tiles each" if e.get("tiles_per_expert") else
                 f", {e['experts_per_gpu']:g} per GPU" if e.get("experts_per_gpu") else "")
        lines.append(f"  experts       {e['experts']} routed, {e['per_token']} per token, "
                     f"{'a shared expert, ' if e['shared'] else ''}{e['moe_layers']} MoE layers{where}")
    if s.get("wafers") is not None:
        per = ", ".join(str(n) for n in s["layers_per_wafer"])
        lines.append(f"  wafers        {s['wafers']} (layers per wafer: {per})")
        w, h = s["region_tiles"]
        lines.append(f"  tiles/layer   {s['tiles_per_layer']:,} ({w} x {h})")
        lines.append(f"  SRAM use      {100 * s['sram_utilization']:.1f}% (KV for {s['context_tokens']} tokens)")
    else:
        lines.append(f"  GPUs          {s['gpus']} ({s['nodes']} node(s)), HBM use {100 * s['memory_utilization']:.1f}%")
    b = dict(s["breakdown_us"])
    inner = [(name, b.pop(f"layer_{name}_us", None)) for name in ("compute", "collectives", "handoff")]
    inner_text = ", ".join(f"{name} {v:,.1f}" for name, v in inner if v is not None)
    parts = []
    for key, value in b.items():
        label = key.removesuffix("_us").replace("_", "-")
        parts.append(f"{label} {value:,.1f} us" + (f" ({inner_text})" if key == "layers_us" and inner_text else ""))
    lines.append(f"  per step      {'; '.join(parts)}")
    return "\n".join(lines)


def run_emulate(args: argparse.Namespace) -> int:
    """Run the `emulate` sub-command; 0 on success, 2 with a message on stderr for bad input."""
    opt = lambda name, default=None: getattr(args, name, default)  # noqa: E731 - tolerate partial namespaces
    try:
        serving = ServingOptions(
            transport=opt("transport", "websocket"),
            prewarm=not opt("no_prewarm", False),
            serving_stack=opt("serving_stack", "2024"),
            deployment=opt("deployment", "local"),
            network_rtt_ms=opt("network_rtt_ms"),
        )
        speculation = None
        draft, acceptance, k = opt("draft"), opt("speculation_acceptance"), opt("draft_tokens")
        if draft or k or acceptance:
            method = EAGLE if (draft or EAGLE).lower() == EAGLE else DRAFT
            speculation = Speculation(
                method, None if method == EAGLE else draft, k or TYPICAL_DRAFT_TOKENS,
                TYPICAL_ACCEPTANCE if acceptance is None else acceptance,
            )
        emu = emulation(
            args.profile,
            args.config,
            opt("prompt_tokens", DEFAULT_PROMPT_TOKENS),
            wafers=opt("wafers"),
            speculation=speculation,
            workload=opt("workload", "interactive"),
            strategy=opt("strategy"),
            context_tokens=opt("context_tokens"),
            serving=serving,
            weight_bits=opt("bits"),
            weight_precision=opt("weights"),
            kv_precision=opt("kv"),
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = emu.summary()
    print(json.dumps(summary) if opt("json", False) else _format_text(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m engine.wafer.cli emulate ...`) until engine/cli.py wires it."""
    parser = argparse.ArgumentParser(prog="tessera-engine")
    add_emulate_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
