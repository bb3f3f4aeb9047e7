"""Activity frames for the wafer view: which regions work at a given emulated time.

`layout()` describes the grid once (downsampled to a few dozen cells per side, regions as
rectangles of cells; for a mixture of experts also `experts`: count, per token, shared, tiles or
GPUs each); `frame_at(t_ms)` says which regions are active then and, in an MoE layer, which
experts the current token was routed to (emulated routing, moe.py); `next_frame(t_ms)` throttles
to at most `max_fps` frames per second of emulated time. All plain JSON-able dicts.

A token crosses a wafer in well under a millisecond, far faster than any display. Frames are
therefore true snapshots taken stroboscopically: their times are spaced so that each catches the
current token a little further along its path than the last one, and the wave is seen flowing
in slow motion. Each frame's `t_ms` is the exact emulated instant it shows.
"""

from __future__ import annotations

import math

from .emulation import Emulation
from .gpu_timing import GpuPlacement
from .moe import is_moe_layer, routed_experts
from .placement import WaferPlacement
from .profiles import get_profile

DEFAULT_CELLS = 48  # cells along a wafer's longer side
DEFAULT_MAX_FPS = 30.0  # frames per second of emulated time
SWEEP_FRAMES = 24  # decode frames per slow-motion pass of one step along the layers
TRAIL_LEVELS = (1.0, 0.55, 0.3, 0.15)  # brightness of the current layer and the ones just left
_GPU_COLS = 4  # GPUs of a node drawn 4 per row
ZOOM_BELOW = 0.05  # a one-wafer model using less than this share of the wafer is shown zoomed in


class ActivityTrace:
    """Frames for one request under one emulation."""

    def __init__(self, emulation: Emulation, cells: int = DEFAULT_CELLS, max_fps: float = DEFAULT_MAX_FPS) -> None:
        if cells < 4:
            raise ValueError("cells must be at least 4")
        if max_fps <= 0:
            raise ValueError("max_fps must be positive")
        self.emulation = emulation
        self.cells = int(cells)
        self.min_interval_ms = 1000.0 / max_fps
        self._last_ms: float | None = None
        self._layout = self._build_layout()
        self._region_of_layer = self._map_layers()
        self._step_starts = self._phase_starts()

    # --- layout -------------------------------------------------------------------------------
    def _build_layout(self) -> dict:
        emu = self.emulation
        base = {
            "profile": emu.profile,
            "label": emu.profile_label,
            "model": emu.model,
            "strategy": emu.strategy,
            "reason": emu.reason,
            "layers": emu.shape.layers if emu.shape else 0,
            "decode_tok_s": round(emu.paced_tok_s, 1) if emu.paced_tok_s else None,
            "ttft_ms": round(emu.ttft_ms, 3) if emu.paced else None,
        }
        shape = emu.shape
        if shape is not None and shape.is_moe:
            base["experts"] = {
                "count": shape.experts, "per_token": shape.experts_per_token, "shared": shape.shared_ffn > 0,
                "moe_layers": shape.moe_layers,
                "tiles_each": emu.experts.tiles_per_expert if emu.experts else None,
                "per_gpu": getattr(emu.placement, "experts_per_gpu", 0.0) or None,
            }
        p = emu.placement
        if isinstance(p, WaferPlacement):
            profile = get_profile(emu.profile)
            view_x, view_y, view_w, view_h = self._view_window(p, profile)
            scale = self.cells / max(view_w, view_h)
            cols = max(1, round(view_w * scale))
            rows = max(1, round(view_h * scale))
            regions = []
            for r in p.regions:
                x0 = min(cols - 1, round((r.x - view_x) * scale))
                y0 = min(rows - 1, round((r.y - view_y) * scale))
                x1 = max(x0 + 1, round((r.x + r.w - view_x) * scale))
                y1 = max(y0 + 1, round((r.y + r.h - view_y) * scale))
                regions.append(
                    {"id": r.id, "kind": r.kind, "wafer": r.wafer, "first_layer": r.first_layer,
                     "last_layer": r.last_layer, "x": x0, "y": y0, "w": min(x1, cols) - x0, "h": min(y1, rows) - y0}
                )
            return base | {
                "kind": "wafer", "wafers": p.wafers, "grid": {"cols": cols, "rows": rows},
                "tiles": {"cols": profile.tile_cols, "rows": profile.tile_rows},
                "view_tiles": {"x": view_x, "y": view_y, "w": view_w, "h": view_h},
                "view_fraction": round(view_w * view_h / profile.tiles, 6),
                "tiles_per_layer": p.tiles_per_layer, "sram_utilization": round(p.sram_utilization, 4),
                "regions": regions,
            }
        if isinstance(p, GpuPlacement):
            cols = min(_GPU_COLS, p.gpus_per_node)
            rows = math.ceil(p.gpus_per_node / cols)
            regions = [
                {"id": node * p.gpus_per_node + g, "kind": "gpu", "wafer": node, "first_layer": -1, "last_layer": -1,
                 "x": g % cols, "y": g // cols, "w": 1, "h": 1}
                for node in range(p.nodes)
                for g in range(p.gpus_per_node)
            ]
            return base | {
                "kind": "gpu", "wafers": p.nodes, "grid": {"cols": cols, "rows": rows}, "tiles": None,
                "tiles_per_layer": None, "memory_utilization": round(p.memory_utilization, 4), "regions": regions,
            }
        return base | {"kind": "local", "wafers": 0, "grid": {"cols": 0, "rows": 0}, "tiles": None, "regions": []}

    @staticmethod
    def _view_window(p: WaferPlacement, profile) -> tuple[int, int, int, int]:
        """Tiles shown: the whole wafer, or (a small model on one wafer) just the corner it uses,
        so its regions stay visible instead of shrinking to a dot."""
        whole = (0, 0, profile.tile_cols, profile.tile_rows)
        if p.wafers != 1:
            return whole
        right = max(r.x + r.w for r in p.regions)
        bottom = max(r.y + r.h for r in p.regions)
        left = min(r.x for r in p.regions)
        top = min(r.y for r in p.regions)
        if (right - left) * (bottom - top) > ZOOM_BELOW * profile.tiles:
            return whole
        side = max(right - left, bottom - top) * 1.15  # a square window with a small margin
        w = min(profile.tile_cols, max(1, round(side)))
        h = min(profile.tile_rows, max(1, round(side)))
        return (max(0, left - (w - (right - left)) // 2), max(0, top - (h - (bottom - top)) // 2), w, h)

    def _map_layers(self) -> dict[int, list[int]]:
        """Region ids working on each layer (several GPUs share one; wafer-wide: the square)."""
        out: dict[int, list[int]] = {}
        p = self.emulation.placement
        layers = self.emulation.shape.layers if self.emulation.shape else 0
        if isinstance(p, WaferPlacement):
            for r in p.regions:
                for layer in range(r.first_layer, r.last_layer + 1) if r.first_layer >= 0 else ():
                    out.setdefault(layer, []).append(r.id)
        elif isinstance(p, GpuPlacement):
            per_node = math.ceil(layers / p.nodes)
            for layer in range(layers):
                node = min(p.nodes - 1, layer // per_node)
                out[layer] = [node * p.gpus_per_node + g for g in range(p.gpus_per_node)]
        return out

    def _phase_starts(self) -> list[tuple[float, str, int, float]]:
        starts, t = [], 0.0
        for kind, layer, dur_us in self.emulation.step_phases():
            starts.append((t, kind, layer, dur_us))
            t += dur_us
        return starts

    def layout(self) -> dict:
        return dict(self._layout)

    # --- frames -------------------------------------------------------------------------------
    def _vocab_region(self, kind: str) -> list[int]:
        wanted = ("embed", "vocab") if kind == "embed" else ("head", "vocab")
        return [r["id"] for r in self._layout["regions"] if r["kind"] in wanted][:1]

    def frame_at(self, t_ms: float) -> dict:
        """Which regions work at emulated time `t_ms` (ms since the request's arrival)."""
        emu = self.emulation
        t_ms = max(0.0, float(t_ms))
        frame = {"t_ms": round(t_ms, 3), "phase": "idle", "tokens": 0, "layer": None, "active": [], "levels": []}
        if not emu.paced or not self._layout["regions"]:
            return frame
        shape = emu.shape
        if t_ms < emu.ttft_ms:
            # the prompt streams through every layer at once, its tokens reaching every expert
            ids = sorted({i for ids in self._region_of_layer.values() for i in ids})
            frame |= {"phase": "prefill", "active": ids, "levels": [1.0] * len(ids)}
            if shape is not None and shape.is_moe:
                frame["experts"] = list(range(shape.experts))
            return frame
        since_us = (t_ms - emu.ttft_ms) * 1000.0
        step_us = emu.step_ms * 1000.0
        step = int(since_us // step_us) if step_us > 0 else 0
        offset = since_us - step * step_us
        tokens = 1 + int((t_ms - emu.ttft_ms) / emu.per_token_ms) if emu.per_token_ms > 0 else 1
        frame["tokens"] = tokens
        index = next((i for i, (start, _, _, dur) in enumerate(self._step_starts) if offset < start + dur),
                     len(self._step_starts) - 1)
        _, kind, layer, _ = self._step_starts[index]
        if shape is not None and shape.is_moe:
            frame |= self._routing(index, tokens)
        frame["phase"] = "decode" if kind in ("layer", "embed", "head") else kind
        if kind == "layer":
            frame["layer"] = layer
            active, levels = [], []
            for back, level in enumerate(TRAIL_LEVELS):
                if layer - back < 0:
                    break
                for rid in self._region_of_layer.get(layer - back, []):
                    if rid not in active:
                        active.append(rid)
                        levels.append(level)
            frame["active"], frame["levels"] = active, levels
        elif kind in ("embed", "head"):
            ids = self._vocab_region(kind)
            frame["active"], frame["levels"] = ids, [1.0] * len(ids)
        return frame

    def _routing(self, index: int, tokens: int) -> dict:
        """The experts the current token was routed to at the last MoE layer it has passed (at or
        before phase `index`; before the first one, the previous token's last MoE layer)."""
        shape = self.emulation.shape
        passed = [layer for _, kind, layer, _ in self._step_starts[: index + 1] if kind == "layer"]
        moe = [layer for layer in passed if is_moe_layer(shape, layer)]
        if moe:
            return {"experts": routed_experts(shape, tokens - 1, moe[-1]), "experts_layer": moe[-1]}
        if tokens >= 2:
            last = max(layer for layer in range(shape.layers) if is_moe_layer(shape, layer))
            return {"experts": routed_experts(shape, tokens - 2, last), "experts_layer": last}
        return {}

    def _decode_interval_ms(self) -> float:
        """Emulated time between decode frames: at least the throttle interval, and a whole number
        of steps plus 1/SWEEP_FRAMES of a step, so successive true snapshots catch the token a bit
        further along its path: the wave is shown in slow motion instead of a random flicker."""
        step = self.emulation.step_ms
        base = self.min_interval_ms
        if step <= 0 or step >= base:
            return base
        advance = step / SWEEP_FRAMES
        return step * math.ceil((base - advance) / step) + advance

    def frame_time(self, t_ms: float) -> float:
        """The latest scheduled frame time at or before `t_ms`."""
        ttft = self.emulation.ttft_ms
        if t_ms < ttft:
            return math.floor(t_ms / self.min_interval_ms) * self.min_interval_ms
        interval = self._decode_interval_ms()
        return ttft + math.floor((t_ms - ttft) / interval) * interval

    def next_frame(self, t_ms: float) -> dict | None:
        """The newest scheduled frame due by `t_ms` if none was sent for it and the throttle
        allows (at most `max_fps` frames per second of emulated time), else None."""
        if not self.emulation.paced:
            return None
        at = self.frame_time(max(0.0, float(t_ms)))
        if self._last_ms is not None and at - self._last_ms < self.min_interval_ms - 1e-9:
            return None
        self._last_ms = at
        return self.frame_at(at)
