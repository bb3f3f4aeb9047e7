"""Predicted-output speculation: the original code is the draft of its own edit.

Most of an edit copies the original. After each emitted token we locate where the output stands in
the draft (the original selection, and after a redirect also the earlier partial output), propose
the next k draft tokens, and verify them all in one forward pass::

    feed   = [pending] + proposal            # pending: the last emitted token, not yet cached
    logits = forward(feed)                   # row i predicts the token after feed[i]
    accept proposal[i] while sample(row i) == proposal[i]; the first disagreeing sample (or the
    bonus sample after a fully accepted run) is emitted too; rewind the cache past the rejects.

Each emitted token is sampled from exactly the logits plain decoding would see, so greedy output
is identical to plain greedy decoding, and sampled output follows the same distribution.

Alignment (prompt lookup): if the draft token at the pointer equals the token just emitted, the
pointer advances; otherwise the longest suffix of the output (4 tokens down to 1) that occurs in a
draft re-anchors it, preferring the occurrence nearest at or after the old pointer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

MAX_NGRAM = 4


@dataclass
class Pointer:
    draft: int  # which draft sequence
    pos: int  # index of the next draft token to propose


class PromptLookup:
    """Proposes continuations of the output from one or more draft token sequences."""

    def __init__(self, drafts: list[list[int]], max_ngram: int = MAX_NGRAM):
        self.drafts = [list(d) for d in drafts if d]
        self.max_ngram = max_ngram
        # n-gram → positions just past each occurrence, per draft: re-anchoring is a dict lookup.
        self._index: list[dict[tuple[int, ...], list[int]]] = []
        for d in self.drafts:
            idx: dict[tuple[int, ...], list[int]] = defaultdict(list)
            for n in range(1, max_ngram + 1):
                for end in range(n, len(d) + 1):
                    idx[tuple(d[end - n:end])].append(end)
            self._index.append(idx)
        self.ptr: Pointer | None = Pointer(0, 0) if self.drafts else None
        self.aligned = self.ptr is not None  # False while the output matches no draft n-gram

    def observe(self, output: list[int]) -> None:
        """Move the pointer after `output[-1]` was emitted."""
        if not self.drafts or not output:
            return
        p = self.ptr
        if p is not None and p.pos < len(self.drafts[p.draft]) and self.drafts[p.draft][p.pos] == output[-1]:
            p.pos += 1
            self.aligned = True
            return
        anchored = self._anchor(output, p)
        self.aligned = anchored is not None and anchored is not p
        self.ptr = anchored

    def _anchor(self, output: list[int], old: Pointer | None) -> Pointer | None:
        for n in range(min(self.max_ngram, len(output)), 0, -1):
            key = tuple(output[-n:])
            best: tuple[int, int, int, int] | None = None  # (behind?, distance, draft, pos)
            for di, idx in enumerate(self._index):
                ref = old.pos if old is not None and old.draft == di else 0
                for end in idx.get(key, ()):
                    cand = (0, end - ref, di, end) if end >= ref else (1, ref - end, di, end)
                    if best is None or cand < best:
                        best = cand
            if best is not None:
                return Pointer(best[2], best[3])
        return old  # nothing matches: stay put (a later token may re-align)

    def propose(self, k: int) -> list[int]:
        if self.ptr is None or not self.aligned or k <= 0:
            return []
        d = self.drafts[self.ptr.draft]
        return d[self.ptr.pos:self.ptr.pos + k]


class AdaptiveK:
    """How many draft tokens to propose: grow while whole runs are accepted, shrink on misses."""

    # k_max 32: with whole runs accepted, a verify pass's fixed cost (one ORT call, the loop's
    # Python) spreads over more tokens; measured on 40 held-out edits: 16 → 32 gave +10-14% tok/s,
    # 64 under +2% more (`python -m engine.cli bench` edit suite).
    def __init__(self, k_min: int = 2, k_max: int = 32, k0: int = 8):
        self.k_min, self.k_max, self.k = k_min, k_max, k0

    def update(self, proposed: int, accepted: int) -> None:
        if proposed and accepted == proposed:
            self.k = min(self.k_max, self.k * 2)
        elif proposed:
            self.k = max(self.k_min, accepted + 1)
