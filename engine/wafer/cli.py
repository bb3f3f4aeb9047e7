"""`tessera-engine emulate`: place a model on a hardware profile and print its predicted timing."""

from __future__ import annotations

import argparse
import json
import sys

from .emulation import SERVING_STACKS, TRANSPORTS, WORKLOADS, ServingOptions, emulation
from .placement import STRATEGIES
from .profiles import PROFILES
from .shapes import PRESETS

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
        "--speculation-acceptance", type=float, default=0.0, metavar="X",
        help="speculative decoding: probability in [0, 1) that a draft token is accepted (0: off)",
    )
    p.add_argument("--strategy", choices=list(STRATEGIES), default=None, help="force a wafer placement strategy")
    p.add_argument("--workload", choices=list(WORKLOADS), default="interactive", help="single stream or a batch")
    p.add_argument("--context-tokens", type=int, default=None, metavar="N", help="KV cache size per sequence")
    p.add_argument("--bits", type=int, choices=(16, 8, 4), default=None, help="weight precision (default 16)")
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
    lines.append(f"  decode        {s['decode_tok_s']:,.1f} tok/s ({s['per_token_ms']:.3f} ms/token)")
    lines.append(f"  TTFT          {s['ttft_ms']:,.2f} ms for {s['prompt_tokens']} prompt tokens")
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
    if s["tokens_per_step"] > 1:
        lines.append(f"  speculation   {s['tokens_per_step']:.2f} tokens per verify step")
    return "\n".join(lines)


def run_emulate(args: argparse.Namespace) -> int:
    """Run the `emulate` sub-command; 0 on success, 2 with a message on stderr for bad input."""
    opt = lambda name, default=None: getattr(args, name, default)  # noqa: E731 - tolerate partial namespaces
    try:
        serving = ServingOptions(
            transport=opt("transport", "websocket"),
            prewarm=not opt("no_prewarm", False),
            serving_stack=opt("serving_stack", "2024"),
        )
        emu = emulation(
            args.profile,
            args.config,
            opt("prompt_tokens", DEFAULT_PROMPT_TOKENS),
            wafers=opt("wafers"),
            speculation_acceptance=opt("speculation_acceptance", 0.0),
            workload=opt("workload", "interactive"),
            strategy=opt("strategy"),
            context_tokens=opt("context_tokens"),
            serving=serving,
            weight_bits=opt("bits"),
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
