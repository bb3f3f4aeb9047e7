"""The one character edit that turns the text the engine holds into the editor's text. No Qt.

A keystroke in a 6,000-line file changes a few characters; sending those (an `update` with
`edits`) instead of the whole text keeps a quarter of a megabyte off the socket, out of JSON on
both sides, and out of the way of the `generate` sent right after it.
"""

from __future__ import annotations

from wire import Edit


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix, by halving: slices compare in C, no loop per character."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the longest common suffix, at most `limit` characters."""
    lo, hi = 0, min(len(a), len(b), limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid:len(a) - lo] == b[len(b) - mid:len(b) - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def edit_between(old: str, new: str) -> Edit:
    """The single replacement of `old[start:end]` that gives `new` (empty when they are equal)."""
    start = common_prefix(old, new)
    tail = common_suffix(old, new, min(len(old), len(new)) - start)
    return Edit(start, len(old) - tail, new[start:len(new) - tail])
