"""How the wafer view fits its grids into the room it has: wafers (or GPU nodes) side by side or
stacked, cell size, gaps, and the columns of a GPU node. Pure arithmetic in pixels; no Qt."""

from __future__ import annotations

import math

WAFER_GAP_CELLS = 0.8  # space between wafers, in cells: enough to tell wafers apart at a glance
MIN_WAFER_GAP_PX = 7.0  # ... and never less than this many pixels


def arrange(wafers: int, cols: int, rows: int, width: float, height: float,
            min_gap: float = MIN_WAFER_GAP_PX) -> tuple[int, int, float, float]:
    """Wafers per row, rows of wafers, cell size and gap (px) that fill width × height best; with
    dozens of wafers in a small view the gaps narrow rather than push wafers out of the view."""
    best = (1, wafers, 0.0, 0.0)
    for per_row in range(1, wafers + 1):
        lines = math.ceil(wafers / per_row)
        gap = min_gap if wafers > 1 else 0.0
        cell = min((width - (per_row - 1) * gap) / (per_row * cols), (height - (lines - 1) * gap) / (lines * rows))
        if cell > best[2]:
            best = (per_row, lines, cell, max(gap, cell * WAFER_GAP_CELLS) if wafers > 1 else 0.0)
    per_row, lines, cell, gap = best
    # the gap may have grown with the cell: shrink cells so everything still fits
    cell = min(cell, (width - (per_row - 1) * gap) / (per_row * cols), (height - (lines - 1) * gap) / (lines * rows))
    if cell < 0.5 and min_gap > 1.0:
        return arrange(wafers, cols, rows, width, height, min_gap / 2)
    return per_row, lines, max(cell, 0.25), gap


def gpu_columns(gpus_per_node: int, nodes: int, width: float, height: float) -> int:
    """Columns for a node's GPUs that give the largest cells in width × height.

    A node's GPUs have no place on a mesh, unlike a wafer's tiles: the view may lay them out in
    whatever rows fit. 72 GPUs as 4 × 18 in a wide, short view would be a thin strip; 12 × 6 is not.
    """
    best_cols, best_cell = 1, -1.0
    for cols in range(1, max(1, gpus_per_node) + 1):
        rows = math.ceil(gpus_per_node / cols)
        cell = arrange(nodes, cols, rows, width, height)[2]
        if cell > best_cell + 1e-9:
            best_cols, best_cell = cols, cell
    return best_cols
