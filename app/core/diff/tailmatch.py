"""difflib's matcher restricted to the unsettled tail of a streaming diff, with a prebuilt index. No Qt."""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Sequence


class TailMatcher(difflib.SequenceMatcher):
    """difflib's matcher over original[a0:a_end] x output[b0:], with a prebuilt line index.

    Only ``find_longest_match`` is replaced: same result as difflib with no junk heuristics
    (longest block; ties to the earliest original line, then the earliest output line), but it
    walks the short output tail and looks lines up in the original's index instead of walking
    the whole original. Popular lines only extend matches (see POPULAR_LINE_COUNT).
    """

    def __init__(self, orig: list[str], index: dict[str, list[int]], popular: set[str],
                 a0: int, a_end: int, b: Sequence[str]):
        self._orig = orig
        self._index = index
        self._popular = popular
        self._a0 = a0
        super().__init__(None, range(a_end - a0), b, autojunk=False)

    def set_seq2(self, b):  # no b2j table: the original's index replaces it
        self.b = b
        self.matching_blocks = self.opcodes = None
        self.fullbcount = None
        self.b2j, self.bjunk, self.bpopular = {}, set(), set()

    def find_longest_match(self, alo=0, ahi=None, blo=0, bhi=None):
        a0, b, index, popular = self._a0, self.b, self._index, self._popular
        best_i, best_j, best_k = alo, blo, 0
        lo, hi = a0 + alo, a0 + ahi
        prev: dict[int, int] = {}
        for j in range(blo, bhi):
            positions = None if b[j] in popular else index.get(b[j])
            cur: dict[int, int] = {}
            if positions:
                start = bisect.bisect_left(positions, lo)
                for p in positions[start:]:
                    if p >= hi:
                        break
                    i = p - a0
                    k = cur[i] = prev.get(i - 1, 0) + 1
                    si, sj = i - k + 1, j - k + 1
                    if k > best_k or (k == best_k and (si, sj) < (best_i, best_j)):
                        best_i, best_j, best_k = si, sj, k
            prev = cur
        if best_k and popular:
            orig = self._orig
            while best_i > alo and best_j > blo and orig[a0 + best_i - 1] == b[best_j - 1]:
                best_i, best_j, best_k = best_i - 1, best_j - 1, best_k + 1
            while (best_i + best_k < ahi and best_j + best_k < bhi
                   and orig[a0 + best_i + best_k] == b[best_j + best_k]):
                best_k += 1
        return difflib.Match(best_i, best_j, best_k)
