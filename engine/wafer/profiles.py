"""Hardware profiles the scheduler can emulate.

Every figure carries its source. Figures a vendor publishes for the whole chip (SRAM, bandwidth)
are divided down to one tile here, so the timing model works per tile and per cycle.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WaferProfile:
    """A wafer-scale engine: a 2-D mesh of tiles, each with its own SRAM and SIMD unit."""

    name: str  # profile key used on the CLI and in the protocol
    label: str  # human name shown in the app
    tile_cols: int  # usable tiles along x (program rectangle inside the fabric)
    tile_rows: int  # usable tiles along y
    sram_bytes_per_tile: int  # bytes of SRAM in one tile
    clock_hz: float  # core and fabric clock, Hz
    fma_per_cycle: int  # 16-bit fused multiply-adds one tile retires per cycle
    sram_bytes_per_cycle: float  # SRAM bytes one tile can read per cycle
    hop_cycles: float  # cycles for a 32-bit wavelet to move one tile
    link_bytes_per_s: float  # off-wafer I/O bandwidth of one system, bytes/s
    native: tuple[str, ...] = ("16",)  # precision classes the SIMD units multiply in (see precision.py)

    @property
    def tiles(self) -> int:  # usable tiles on one wafer
        return self.tile_cols * self.tile_rows

    @property
    def sram_bytes(self) -> int:  # SRAM of the usable tiles of one wafer, bytes
        return self.tiles * self.sram_bytes_per_tile


@dataclass(frozen=True)
class GpuProfile:
    """GPUs in one NVLink domain: layers tensor-parallel over `tp_gpus` of them (one GPU: no
    all-reduce); experts tensor- or expert-parallel over all `gpus`."""

    name: str  # profile key used on the CLI and in the protocol
    label: str  # human name shown in the app
    gpus: int  # GPUs in one node, all used tensor-parallel
    hbm_bytes_per_s: float  # peak HBM bandwidth of one GPU, bytes/s
    hbm_bytes: float  # HBM capacity of one GPU, bytes
    tensor_flops: float  # dense 16-bit tensor-core throughput of one GPU, FLOP/s
    link_bytes_per_s: float  # NVLink bandwidth of one GPU, one direction, bytes/s
    native: tuple[str, ...] = ("16", "8")  # precision classes the tensor cores multiply in
    tp_gpus: int = 0  # GPUs one layer's dense weights are split over (0: all `gpus`)

    @property
    def tp(self) -> int:  # tensor-parallel width
        return self.tp_gpus or self.gpus

    def flops(self, compute_class: str) -> float:
        """Dense tensor FLOP/s of one GPU in a precision class: FP8/INT8 twice and FP4 four times the
        16-bit rate on Hopper and Blackwell (datasheets below)."""
        return self.tensor_flops * {"16": 1, "8": 2, "4": 4}[compute_class]


@dataclass(frozen=True)
class LocalProfile:
    """This machine: tokens go out as the real runner makes them, no pacing."""

    name: str  # profile key
    label: str  # human name shown in the app


Profile = WaferProfile | GpuProfile | LocalProfile

_CLOCK_HZ = 1.1e9  # working clock of published cycle-level WSE work (WaferLLM, OSDI 2025)

WSE3 = WaferProfile(
    name="wse-3",
    label="Cerebras WSE-3 (CS-3)",
    # Fabric 762 x 1172 (cslc --arch=wse3 --fabric-dims=762,1172 in the WaferLLM repository);
    # memcpy takes 4+3 columns and 1+1 rows of it, leaving 755 x 1170 = 883k program tiles
    # of the 900,000 cores Cerebras quotes (the rest are spares and I/O).
    tile_cols=755,
    tile_rows=1170,
    # 44 GB on-chip SRAM / 900,000 cores = 48.9 kB; Cerebras quotes 48 kB per core.
    sram_bytes_per_tile=48 * 1024,
    clock_hz=_CLOCK_HZ,
    # WSE-3 has an eight-wide FP16 SIMD unit, up from four on WSE-2 (The Next Platform,
    # 2024-03-14, "Cerebras goes hyperscale with third gen waferscale supercomputers").
    fma_per_cycle=8,
    # 21 PB/s memory bandwidth / 900,000 cores / 1.1 GHz = 21.2 bytes per cycle per tile.
    sram_bytes_per_cycle=21e15 / 900_000 / _CLOCK_HZ,
    # A 32-bit wavelet moves one hop per cycle on the 2-D mesh (Cerebras SDK docs; WaferLLM).
    hop_cycles=1.0,
    # CS-3 system I/O: 12 x 100 GbE = 150 GB/s.
    link_bytes_per_s=12 * 100e9 / 8,
)

WSE2 = WaferProfile(
    name="wse-2",
    label="Cerebras WSE-2 (CS-2)",
    # Fabric 757 x 996 (WaferLLM Decode/WSE-2/compile.py: --fabric-dims=757,996) less the
    # memcpy halo: 750 x 994 program tiles of the 850,000 cores quoted.
    tile_cols=750,
    tile_rows=994,
    # 40 GB / 850,000 cores = 47 kB; Cerebras quotes 48 kB per core.
    sram_bytes_per_tile=48 * 1024,
    clock_hz=_CLOCK_HZ,
    # Four-wide FP16 SIMD (The Next Platform, 2024-03-14).
    fma_per_cycle=4,
    # 20 PB/s / 850,000 cores / 1.1 GHz = 21.4 bytes per cycle per tile.
    sram_bytes_per_cycle=20e15 / 850_000 / _CLOCK_HZ,
    hop_cycles=1.0,
    link_bytes_per_s=12 * 100e9 / 8,
)

# NVIDIA H100 SXM5 datasheet: 3.35 TB/s HBM3, 80 GB, 989 TFLOPS dense BF16 (1,979 FP8),
# NVLink 4 900 GB/s per GPU (both directions together, so 450 GB/s each way). FP8 and INT8 are
# native; 4-bit weights are widened before the GEMM.
_H100 = dict(hbm_bytes_per_s=3.35e12, hbm_bytes=80e9, tensor_flops=989e12, link_bytes_per_s=450e9)

H100 = GpuProfile(name="h100", label="1x NVIDIA H100 SXM", gpus=1, **_H100)
H100X8 = GpuProfile(name="h100x8", label="8x NVIDIA H100 SXM (NVLink)", gpus=8, **_H100)
# H200 SXM datasheet (Nov 2023): 4.8 TB/s HBM3e, 141 GB; same Hopper compute and NVLink 4 as H100.
_H200 = dict(hbm_bytes_per_s=4.8e12, hbm_bytes=141e9, tensor_flops=989e12, link_bytes_per_s=450e9)
H200 = GpuProfile(name="h200", label="1x NVIDIA H200", gpus=1, **_H200)
H200X8 = GpuProfile(name="h200x8", label="8x NVIDIA H200 (NVLink)", gpus=8, **_H200)
# DGX/HGX B200 datasheet (2024): 8 TB/s HBM3e and 180 GB per GPU (1,440 GB per 8), 2.25 PFLOPS
# dense FP16/BF16, 4.5 FP8, 9 FP4 per GPU; NVLink 5 at 1.8 TB/s per GPU (900 GB/s each way).
_B200 = dict(hbm_bytes_per_s=8e12, hbm_bytes=180e9, tensor_flops=2.25e15, link_bytes_per_s=900e9,
             native=("16", "8", "4"))
B200X8 = GpuProfile(name="b200x8", label="8x NVIDIA B200 (NVLink 5)", gpus=8, **_B200)
# GB200 NVL72 product page (NVIDIA, 2024): 72 Blackwell GPUs in one NVLink 5 domain, 13.4 TB HBM3e
# (186 GB each) at 576 TB/s (8 TB/s each), 360 PFLOPS sparse FP16 (2.5 PF dense per GPU), 1.8 TB/s
# NVLink per GPU. One stream splits a layer over 8 GPUs (tensor-parallel, the usual serving set-up)
# and spreads experts over all 72; the other 64 also hold layers (pipeline stages inside the domain).
GB200NVL72 = GpuProfile(
    name="gb200nvl72", label="GB200 NVL72 (72 GPUs)", gpus=72, tp_gpus=8, hbm_bytes_per_s=8e12,
    hbm_bytes=186e9, tensor_flops=2.5e15, link_bytes_per_s=900e9, native=("16", "8", "4"),
)

LOCAL = LocalProfile(name="local", label="This machine (no pacing)")

PROFILES: dict[str, Profile] = {
    p.name: p for p in (WSE3, WSE2, H100, H100X8, H200, H200X8, B200X8, GB200NVL72, LOCAL)
}


def get_profile(name: str) -> Profile:
    """The profile called `name`; a clear ValueError listing the known names otherwise."""
    key = str(name).strip().lower()
    if key not in PROFILES:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown hardware profile {name!r}; known profiles: {known}")
    return PROFILES[key]
