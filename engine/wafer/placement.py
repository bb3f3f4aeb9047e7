"""Where each layer lives on the wafer(s): the scheduler's real decision.

Two strategies:
- layer-pipelined: each layer on its own rectangle, sized at least by the SRAM its weights and its
  share of the KV cache need, grown to the size that makes the layer fastest. Rectangles follow a
  serpentine (left to right, then right to left one band down) so a layer hands its output to a
  neighbour. Layers that do not fit spill onto further wafers.
- wafer-wide: every layer spread over the same large square of tiles (the mapping of published
  cycle-level work such as WaferLLM), executed layer after layer; the strip beside the square holds
  the vocabulary tables.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from .calibration import USABLE_SRAM_FRACTION
from .profiles import WaferProfile
from .shapes import ModelShape
from .timing import layer_cycles

PIPELINED = "layer-pipelined"
WAFER_WIDE = "wafer-wide"
STRATEGIES = (PIPELINED, WAFER_WIDE)

_MAX_SPLITS = 40  # bands and cells per band tried when sizing pipelined regions


@dataclass(frozen=True)
class Region:
    """A rectangle of tiles on one wafer holding one or more layers or a vocabulary table."""

    id: int  # index in the placement's region list
    kind: str  # "layer", "layers" (wafer-wide block), "embed", "head" or "vocab" (tied table)
    first_layer: int  # first decoder layer held, -1 for a vocabulary table
    last_layer: int  # last decoder layer held (inclusive), -1 for a vocabulary table
    wafer: int  # wafer index, 0-based
    x: int  # left edge, tiles
    y: int  # top edge, tiles
    w: int  # width, tiles
    h: int  # height, tiles


@dataclass(frozen=True)
class WaferPlacement:
    """The scheduler's output for a wafer profile (one record, every field with its unit)."""

    strategy: str  # PIPELINED or WAFER_WIDE
    profile: str  # profile name
    wafers: int  # wafers used
    layers_per_wafer: tuple[int, ...]  # decoder layers on each wafer
    layer_w: int  # width of one layer's region, tiles (wafer-wide: the shared square)
    layer_h: int  # height of one layer's region, tiles
    regions: tuple[Region, ...]  # every region, in serpentine order per wafer
    sram_needed_bytes: float  # weights + KV cache, bytes
    sram_total_bytes: float  # SRAM of the usable tiles of the wafers used, bytes
    context_tokens: int  # KV cache sized for this many tokens per sequence
    sequences: int  # sequences whose KV cache is reserved

    @property
    def tiles_per_layer(self) -> int:
        return self.layer_w * self.layer_h

    @property
    def sram_utilization(self) -> float:  # share of the wafers' SRAM holding weights and KV
        return self.sram_needed_bytes / self.sram_total_bytes if self.sram_total_bytes else 0.0


def _usable_tile_bytes(profile: WaferProfile) -> float:
    return profile.sram_bytes_per_tile * USABLE_SRAM_FRACTION


def _layer_bytes(shape: ModelShape, context_tokens: int, sequences: int) -> float:
    return shape.layer_weight_bytes + shape.kv_bytes_layer(context_tokens) * sequences


def _vocab_bytes(shape: ModelShape) -> float:
    return shape.vocab_params * shape.weight_bytes_per_param


def _split_layers(layers: int, wafers: int) -> list[int]:
    base, extra = divmod(layers, wafers)
    return [base + (1 if i < extra else 0) for i in range(wafers)]


def _tables(shape: ModelShape, first: bool, last: bool) -> list[str]:
    """Vocabulary tables a wafer holds: the embedding on the first, the LM head on the last."""
    if shape.tied_embeddings:
        return ["vocab"] if last else []
    return (["embed"] if first else []) + (["head"] if last else [])


def _min_wafers(shape: ModelShape, profile: WaferProfile, context_tokens: int, sequences: int) -> int:
    need = shape.layers * _layer_bytes(shape, context_tokens, sequences) + shape.vocab_tables * _vocab_bytes(shape)
    return max(1, math.ceil(need / (profile.tiles * _usable_tile_bytes(profile))))


def _sram_needed(shape: ModelShape, context_tokens: int, sequences: int) -> float:
    return shape.layers * _layer_bytes(shape, context_tokens, sequences) + shape.vocab_tables * _vocab_bytes(shape)


# --- layer-pipelined --------------------------------------------------------------------------


def _pack_serpentine(items: list[tuple[str, int]], cells: int, bands: int) -> list[tuple[int, int, int]] | None:
    """Lay items (kind, cells wide) along bands of `cells` cells; (band, first cell, width) each."""
    out, band, pos = [], 0, 0
    for _, width in items:
        if width > cells:
            return None
        if pos + width > cells:
            band, pos = band + 1, 0
        if band >= bands:
            return None
        out.append((band, pos, width))
        pos += width
    return out


def _wafer_items(tables: list[str], layers: int, vocab_cells: int) -> list[tuple[str, int]]:
    items = [(k, vocab_cells) for k in tables if k == "embed"]
    items += [("layer", 1)] * layers
    return items + [(k, vocab_cells) for k in tables if k != "embed"]


def _layer_capacity(tables: list[str], vocab_cells: int, cells: int, bands: int) -> int:
    """Most layers a wafer holding `tables` fits in a cells x bands serpentine grid.

    Layers are one cell wide and never waste a cell; a table `vocab_cells` wide fits at the very
    start (embedding) or the very end (LM head) of the path, so only its own cells are lost.
    """
    if tables and vocab_cells > cells:
        return -1
    return cells * bands - len(tables) * vocab_cells


def _split_by_capacity(layers: int, capacities: list[int]) -> list[int] | None:
    """Spread layers as evenly as the wafers' capacities allow (fewer on vocab wafers)."""
    if min(capacities) < 0 or sum(capacities) < layers:
        return None
    split = [0] * len(capacities)
    for _ in range(layers):  # give the next layer to the least-loaded wafer with room
        i = min((i for i, c in enumerate(capacities) if split[i] < c), key=lambda i: (split[i], i))
        split[i] += 1
    return split


def _fewest_wafers(shape, cap: dict[tuple[bool, bool], int], forced: int | None) -> int | None:
    """Wafers this grid needs: the first holds the embedding, the last the LM head."""
    if forced is not None:
        return forced
    if cap[(True, True)] >= shape.layers:
        return 1
    if min(cap[key] for key in ((True, False), (False, True), (False, False))) < 0:
        return None  # (one wafer holding both tables may not fit: several wafers still can)
    ends = cap[(True, False)] + cap[(False, True)]
    middle = cap[(False, False)]
    if middle <= 0:
        return 2 if ends >= shape.layers else None
    return 2 + max(0, math.ceil((shape.layers - ends) / middle))


def _place_pipelined(shape, profile, wafers, context_tokens, sequences):
    min_tiles = math.ceil(_layer_bytes(shape, context_tokens, sequences) / _usable_tile_bytes(profile))
    vocab_tiles = _vocab_bytes(shape) / _usable_tile_bytes(profile)
    best, cache = None, {}
    for cells in range(1, _MAX_SPLITS + 1):
        cell_w = profile.tile_cols // cells
        for bands in range(1, _MAX_SPLITS + 1):
            cell_h = profile.tile_rows // bands
            if cell_w * cell_h < min_tiles:
                break  # more bands only shrink the cell further
            vocab_cells = math.ceil(vocab_tiles / (cell_w * cell_h))
            cap = {
                (first, last): _layer_capacity(_tables(shape, first, last), vocab_cells, cells, bands)
                for first in (True, False)
                for last in (True, False)
            }
            count = _fewest_wafers(shape, cap, wafers)
            if count is None:
                continue
            if count == 1:
                capacities = [cap[(True, True)]]
            else:
                capacities = [cap[(True, False)]] + [cap[(False, False)]] * (count - 2) + [cap[(False, True)]]
            split = _split_by_capacity(shape.layers, capacities)
            if split is None:
                continue
            key = (cell_w, cell_h)
            if key not in cache:
                cache[key] = layer_cycles(shape, profile, cell_w, cell_h, context_tokens).total
            score = (count, cache[key])
            if best is None or score < best[0]:
                best = (score, cells, bands, cell_w, cell_h, vocab_cells, split)
    if best is None:
        return None
    _, cells, bands, cell_w, cell_h, vocab_cells, split = best
    regions: list[Region] = []
    first_layer = 0
    for wafer, layers in enumerate(split):
        tables = _tables(shape, wafer == 0, wafer == len(split) - 1)
        items = _wafer_items(tables, layers, vocab_cells)
        for kind, (band, pos, width) in zip((k for k, _ in items), _pack_serpentine(items, cells, bands)):
            x = pos * cell_w if band % 2 == 0 else profile.tile_cols - (pos + width) * cell_w
            span = (first_layer, first_layer) if kind == "layer" else (-1, -1)
            regions.append(Region(len(regions), kind, *span, wafer, x, band * cell_h, width * cell_w, cell_h))
            first_layer += kind == "layer"
    return WaferPlacement(
        PIPELINED, profile.name, len(split), tuple(split), cell_w, cell_h, tuple(regions),
        _sram_needed(shape, context_tokens, sequences), len(split) * profile.tiles * profile.sram_bytes_per_tile,
        context_tokens, sequences,
    )


# --- wafer-wide -------------------------------------------------------------------------------


def _place_wafer_wide(shape, profile, wafers, context_tokens, sequences):
    side = min(profile.tile_cols, profile.tile_rows)
    strip_w = profile.tile_cols - side if profile.tile_cols > side else profile.tile_cols
    strip_h = profile.tile_rows if profile.tile_cols > side else profile.tile_rows - side
    usable = _usable_tile_bytes(profile)
    split = _split_layers(shape.layers, wafers)
    regions: list[Region] = []
    first = 0
    for wafer, layers in enumerate(split):
        tables = _tables(shape, wafer == 0, wafer == wafers - 1)
        layer_bytes = layers * _layer_bytes(shape, context_tokens, sequences)
        table_bytes = len(tables) * _vocab_bytes(shape)
        strip_fits = table_bytes <= strip_w * strip_h * usable
        square_bytes = layer_bytes + (0 if strip_fits else table_bytes)
        if square_bytes > side * side * usable:
            return None
        regions.append(Region(len(regions), "layers", first, first + layers - 1, wafer, 0, 0, side, side))
        if tables:
            # tables share the strip (or, when it is too small, the square itself)
            sx, sy = (side, 0) if profile.tile_cols > side else (0, side)
            sw, sh = (strip_w, strip_h) if strip_fits else (side, side)
            if not strip_fits:
                sx, sy = 0, 0
            part = sh // len(tables)
            for i, kind in enumerate(tables):
                regions.append(Region(len(regions), kind, -1, -1, wafer, sx, sy + i * part, sw, part))
        first += layers
    return WaferPlacement(
        WAFER_WIDE, profile.name, wafers, tuple(split), side, side, tuple(regions),
        _sram_needed(shape, context_tokens, sequences), wafers * profile.tiles * profile.sram_bytes_per_tile,
        context_tokens, sequences,
    )


@functools.lru_cache(maxsize=64)  # pure; the engine asks again for every request
def place(
    shape: ModelShape,
    profile: WaferProfile,
    strategy: str,
    context_tokens: int,
    sequences: int = 1,
    wafers: int | None = None,
) -> WaferPlacement:
    """Place `shape` with `strategy`; fewest wafers that fit unless `wafers` is given."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown placement strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
    if context_tokens <= 0 or sequences <= 0:
        raise ValueError("context_tokens and sequences must be positive")
    if wafers is not None and not 1 <= wafers <= shape.layers:
        raise ValueError(f"--wafers must be between 1 and {shape.layers} (the layers of {shape.name}), got {wafers}")
    start = _min_wafers(shape, profile, context_tokens, sequences)
    if strategy == PIPELINED:
        placement = _place_pipelined(shape, profile, wafers, context_tokens, sequences)
        if placement is None and wafers is not None:
            fewest = _place_pipelined(shape, profile, None, context_tokens, sequences)
            hint = f"; it needs at least {fewest.wafers}" if fewest else ""
            raise ValueError(f"{shape.name} does not fit on {wafers} {profile.name} wafer(s) ({strategy}){hint}")
    elif wafers is not None:
        placement = _place_wafer_wide(shape, profile, wafers, context_tokens, sequences)
        if placement is None:
            fewest = next(
                (n for n in range(max(start, wafers + 1), shape.layers + 1)
                 if _place_wafer_wide(shape, profile, n, context_tokens, sequences)),
                None,
            )
            hint = f"; it needs at least {fewest}" if fewest else ""
            raise ValueError(f"{shape.name} does not fit on {wafers} {profile.name} wafer(s) ({strategy}){hint}")
    else:
        placement = next(
            (p for n in range(start, shape.layers + 1)
             if (p := _place_wafer_wide(shape, profile, n, context_tokens, sequences)) is not None),
            None,
        )
    if placement is None:
        layer_gb = _layer_bytes(shape, context_tokens, sequences) / 1e9
        wafer_gb = profile.tiles * _usable_tile_bytes(profile) / 1e9
        why = "more than" if layer_gb > wafer_gb else "too close to fit, with its region's packing, in"
        raise ValueError(
            f"{shape.name} cannot be placed on {profile.name} ({strategy}): one layer with the KV cache of "
            f"{sequences} sequence(s) x {context_tokens} tokens needs {layer_gb:.1f} GB, {why} a wafer's "
            f"usable {wafer_gb:.1f} GB of SRAM"
        )
    return placement
