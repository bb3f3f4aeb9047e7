"""What the wafer view writes around its grid, from the engine's `tiles` dicts. No Qt.

Each caption is a list of parts, most telling first: when the view has no room, it cuts the
details at the end.
"""

from __future__ import annotations


def as_int(value, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def subtitle_parts(layout: dict, regions: int) -> list[str]:
    """Model, predicted speed, and the hardware's extent (wafers and SRAM, or GPUs and nodes)."""
    parts = [str(layout.get("model", ""))]
    if layout.get("decode_tok_s"):
        parts.append(f"predicted {float(layout['decode_tok_s']):,.0f} tok/s")
    if layout.get("kind") == "wafer":
        n = as_int(layout.get("wafers"), 1)
        parts.append(f"{n} wafer{'s' if n != 1 else ''}")
        if layout.get("sram_utilization") is not None:
            pct = 100 * float(layout["sram_utilization"])
            parts.append(f"SRAM {pct:.0f}%" if pct >= 1 else f"SRAM {pct:.2f}%")
        fraction = layout.get("view_fraction")
        if isinstance(fraction, (int, float)) and fraction < 0.999:
            parts.append(f"{100 * fraction:.1f}% of the wafer shown")
    elif layout.get("kind") == "gpu":
        nodes = as_int(layout.get("wafers"), 1)
        if nodes > 1:  # the model outgrows one node of the profile: say so, not a bare "16 GPUs"
            parts.append(f"{regions} GPUs in {nodes} nodes")
        else:
            parts.append(f"{regions} GPU{'s' if regions != 1 else ''}")
    return [p for p in parts if p]


def status_parts(layout: dict, frame: dict) -> list[str]:
    """The status line under the grid: the token, where it is, the emulated time."""
    phase = frame.get("phase")
    if not frame or phase in (None, "idle"):
        return ["waiting for a request"]
    t = frame.get("t_ms")
    t_text = [f"t = {float(t):,.1f} ms"] if isinstance(t, (int, float)) else []
    if phase == "prefill":
        return ["prefill: prompt flows through all layers", *t_text]
    layer = frame.get("layer")
    layers = as_int(layout.get("layers"))
    where = (f"layer {layer + 1}/{layers}" if isinstance(layer, int)
             else {"host": "host", "hop": "between wafers"}.get(phase, "vocab"))
    return [f"token {as_int(frame.get('tokens'))}", where, *t_text]
