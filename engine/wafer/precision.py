"""Number formats for weights and the KV cache, and what each profile computes natively.

Storage decides bytes (SRAM or HBM held, bytes streamed per token); compute decides the
multiply-add rate: a format the hardware cannot multiply in is widened to one it can (4-bit
weights on an H100 run as 16-bit GEMMs after dequantisation, "w4a16").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Precision:
    """One number format."""

    name: str  # key used on the CLI: "16", "8", "fp8", "4", "mxfp4"
    bits: float  # storage bits per value, block scales included
    compute_class: str  # rate class the hardware may multiply in: "16", "8" or "4"
    label: str  # human name


# MXFP4 (OCP Microscaling spec v1.0, Sept 2023): blocks of 32 FP4 (E2M1) values share one 8-bit
# scale, 4 + 8/32 = 4.25 bits per value. gpt-oss ships its expert weights this way (OpenAI model
# card, Aug 2025). Integer 4-bit weights carry a 16-bit scale per 128-value group (AWQ/GPTQ
# default), 4 + 16/128 = 4.125 bits.
PRECISIONS: dict[str, Precision] = {
    "16": Precision("16", 16.0, "16", "BF16/FP16"),
    "8": Precision("8", 8.0, "8", "INT8"),
    "fp8": Precision("fp8", 8.0, "8", "FP8 (E4M3)"),
    "4": Precision("4", 4.125, "4", "INT4, 128-value groups"),
    "mxfp4": Precision("mxfp4", 4.25, "4", "MXFP4 (32-value blocks)"),
}

# Earlier callers passed a bit count; these are the formats they meant.
_FROM_BITS = {16: "16", 8: "8", 4: "4"}


def get_precision(spec: "str | int | Precision") -> Precision:
    """A Precision from its key, a bit count (16, 8, 4) or itself; a clear ValueError otherwise."""
    if isinstance(spec, Precision):
        return spec
    if isinstance(spec, int) and not isinstance(spec, bool) and spec in _FROM_BITS:
        return PRECISIONS[_FROM_BITS[spec]]
    key = str(spec).strip().lower()
    if key in PRECISIONS:
        return PRECISIONS[key]
    raise ValueError(f"unknown precision {spec!r}; known: {', '.join(PRECISIONS)}")


def compute_class(precision: Precision, native: tuple[str, ...]) -> str:
    """The rate class a profile multiplies `precision` in: its own when native, else the
    narrowest native class at least as wide (dequantised on the fly), else 16-bit."""
    if precision.compute_class in native:
        return precision.compute_class
    wider = [c for c in native if int(c) > int(precision.compute_class)]
    return min(wider, key=int) if wider else "16"
