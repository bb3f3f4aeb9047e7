"""Draft alignment for draft-conditioned edit models, shared by training and the engine.

An edit's output is mostly the source again. At every output position the model is shown, as
extra embedded inputs, what a cheap token-level guess expects next:

- ``draft``: the next token of a *predicted output* — the source with the edits that the
  instruction names and that are mechanical at token level already applied (each skill's draft
  rewrite, engine/skills/: a rename substitutes the new name, "remove prints" drops print lines,
  "add a docstring" inserts a template docstring, f-strings replace ``.format``/``%`` literals).
  The model decides where the guess is wrong (``self.x``, a keyword argument, a print that is a
  block's only statement, the docstring's wording).
- ``draft_next``: the predicted token after that (look-ahead helps resume after a deviation).
- ``source``: the source token the pointer corresponds to (the old name where a rename is offered).

The pointer follows the output like prompt-lookup decoding: if the emitted token is the draft it
advances by one; otherwise the longest suffix of the output (4 tokens down to 1) is looked up in
the predicted output near the pointer (one token only within a few positions ahead, longer
suffixes from 8 back to 128 ahead; nearest at/after the pointer first), and the pointer moves
just past it; no match leaves it in place. The source pointer follows the predicted pointer
whenever the output agrees with the prediction and runs the same lookup on the source otherwise.

Everything here is pure Python on small integer lists: the common step is two comparisons.
"""

from __future__ import annotations

from difflib import SequenceMatcher

import numpy as np

from ..skills import predicted_output
from ..skills.tokens import AlignerSpecError, Vocabulary, vocabulary_from_spec

FEATURES = ("draft", "draft_next", "source")
SUFFIX_MAX = 4  # longest output suffix looked up, tokens
ONE_TOKEN_AHEAD = 6  # a single token is looked up only this far ahead of the pointer
BACK = 8  # longer suffixes may move the pointer this far back (little: a far jump back replays
# text already written, and the model then loops)...
AHEAD = 128  # ...or this far ahead

__all__ = ["AlignerSpecError", "Aligner", "FEATURES", "aligner_for", "make_aligner", "vocabulary_from_spec"]


class _Track:
    """Token → positions index of one sequence, for the suffix lookup."""

    def __init__(self, seq: list[int]):
        self.seq = seq
        self.where: dict[int, list[int]] = {}
        for i, t in enumerate(seq):
            self.where.setdefault(t, []).append(i)

    def follow(self, p: int, tail: tuple) -> int:
        """New pointer after the output gained tail[-1] (tail = last ≤ SUFFIX_MAX output tokens)."""
        seq = self.seq
        t = tail[-1]
        if p < len(seq) and seq[p] == t:
            return p + 1
        spots = self.where.get(t)
        if not spots:
            return p
        for k in range(min(len(tail), SUFFIX_MAX), 0, -1):
            lo, hi = (p, p + ONE_TOKEN_AHEAD) if k == 1 else (p - BACK, p + AHEAD)
            best, best_key = -1, None
            for i in spots:  # i: where the suffix's last token sits
                s = i - k + 1
                if s < lo or s > hi or s < 0:
                    continue
                if k > 1 and tuple(seq[s:i + 1]) != tail[-k:]:
                    continue
                key = (0, s - p) if s >= p else (1, p - s)
                if best_key is None or key < best_key:
                    best, best_key = i, key
            if best >= 0:
                return best + 1
        return p


class Aligner:
    """Per-request alignment state; `clone` is cheap (three small fields)."""

    def __init__(self, vocab: Vocabulary, pred: _Track, src: _Track, origin: list[int]):
        self._vocab = vocab
        self._pred = pred
        self._src = src
        self._origin = origin
        self._pp = 0  # pointer into the predicted output
        self._sp = origin[0] if origin else 0  # pointer into the source
        self._tail: tuple = ()  # last SUFFIX_MAX output tokens

    def clone(self) -> "Aligner":
        c = Aligner.__new__(Aligner)
        c.__dict__.update(self.__dict__)
        return c

    def push(self, token_id: int) -> None:
        tail = (self._tail + (token_id,))[-SUFFIX_MAX:]
        self._tail = tail
        pp = self._pp
        pred = self._pred.seq
        if pp < len(pred) and pred[pp] == token_id:
            self._pp = pp + 1
            self._sp = self._origin[pp + 1] if pp + 1 < len(self._origin) else len(self._src.seq)
            return
        self._pp = self._pred.follow(pp, tail)
        self._sp = self._src.follow(self._sp, tail)

    def next_features(self) -> dict[str, int]:
        pred, src, end = self._pred.seq, self._src.seq, self._vocab.end
        pp, sp = self._pp, self._sp
        return {"draft": pred[pp] if pp < len(pred) else end,
                "draft_next": pred[pp + 1] if pp + 1 < len(pred) else end,
                "source": src[sp] if sp < len(src) else end}

    def prompt_features(self, prompt_len: int) -> dict[str, np.ndarray]:
        if prompt_len < 1:
            raise ValueError("a prompt has at least the <edit> token")
        first = self.next_features()
        out = {}
        for name in FEATURES:
            arr = np.full(prompt_len, self._vocab.pad, dtype=np.int64)
            arr[-1] = first[name]
            out[name] = arr
        return out

    def lookahead(self, k: int) -> list[int]:
        """The next `k` tokens of the predicted output from the pointer (fewer near the end): a
        speculative draft that already contains the mechanical part of the edit."""
        pp = self._pp
        return list(self._pred.seq[pp:pp + max(0, k)])

    @property
    def predicted(self) -> list[int]:
        """The predicted output (for tests and diagnostics)."""
        return list(self._pred.seq)


_PARSED: dict[int, tuple[dict, Vocabulary]] = {}  # id(spec) → (spec, parsed), a few entries


def make_aligner(spec: dict, source_ids: list[int], instruction_ids: list[int],
                 predicted: list[int] | None = None) -> Aligner:
    """The engine's entry point: `spec` is the "aligner" object of tessera.json.

    Parsing a spec takes milliseconds (vocabulary tables, the pre-token pattern), so the parsed
    form is kept per spec object: a model's requests after the first start at once."""
    hit = _PARSED.get(id(spec))
    if hit is None or hit[0] is not spec:
        if len(_PARSED) > 8:
            _PARSED.clear()
        hit = _PARSED[id(spec)] = (spec, vocabulary_from_spec(spec))
    return aligner_for(hit[1], source_ids, instruction_ids, predicted)


def origin_of(source: list[int], pred: list[int]) -> list[int]:
    """Per predicted token, the source token it stands for: its match where the two sequences
    agree (difflib), else the source position where the change begins."""
    origin = [0] * len(pred)
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, source, pred, autojunk=False).get_opcodes():
        for j in range(j1, j2):
            origin[j] = i1 + (j - j1) if tag == "equal" else i1
    return origin


def aligner_for(vocab: Vocabulary, source_ids: list[int], instruction_ids: list[int],
                predicted: list[int] | None = None) -> Aligner:
    """As make_aligner, with the spec already parsed (training builds many aligners).

    `predicted`, when given, is the predicted output already made (a skill's rule written in the
    source's own text, engine/skills ``predicted_text``) in place of the token-level drafts."""
    source = [int(t) for t in source_ids]
    if predicted is not None:
        pred = [int(t) for t in predicted]
        origin = origin_of(source, pred)
    else:
        pred, origin = predicted_output(vocab, source, [int(t) for t in instruction_ids])
    return Aligner(vocab, _Track(pred), _Track(source), origin)
