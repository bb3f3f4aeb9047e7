"""Draft alignment for draft-conditioned edit models, shared by training and the engine.

An edit's output is mostly the source again. At every output position the model is shown, as
extra embedded inputs, what a cheap token-level guess expects next:

- ``draft``: the next token of a *predicted output* — the source with the edits that the
  instruction names and that are mechanical at token level already applied: a rename substitutes
  the new name at every whole-identifier occurrence of the old one, "remove prints" drops lines
  that start with ``print(``, "add a docstring" inserts ``\"\"\"`` + the signature's words +
  ``\"\"\"`` after the ``def`` line. The model decides where the guess is wrong (``self.x``, a
  keyword argument, a print that is a block's only statement, the docstring's wording).
- ``draft_next``: the predicted token after that (look-ahead helps resume after a deviation).
- ``source``: the source token the pointer corresponds to (the old name where a rename is offered).

The pointer follows the output like prompt-lookup decoding: if the emitted token is the draft it
advances by one; otherwise the longest suffix of the output (4 tokens down to 1) is looked up in
the predicted output near the pointer (one token only within a few positions ahead, longer
suffixes from 32 back to 128 ahead; nearest at/after the pointer first), and the pointer moves
just past it; no match leaves it in place. The source pointer follows the predicted pointer
whenever the output agrees with the prediction and runs the same lookup on the source otherwise.

Everything here is pure Python on small integer lists: the common step is two comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = ("draft", "draft_next", "source")
SUFFIX_MAX = 4  # longest output suffix looked up, tokens
ONE_TOKEN_AHEAD = 6  # a single token is looked up only this far ahead of the pointer
BACK = 32  # longer suffixes may move the pointer this far back...
AHEAD = 128  # ...or this far ahead


class AlignerSpecError(ValueError):
    """tessera.json's "aligner" object is not usable."""


@dataclass
class Vocabulary:
    pad: int  # marker on prompt positions
    end: int  # draft past the end of the predicted output
    words: frozenset  # ids of tokens made only of identifier characters
    newlines: frozenset  # ids of tokens that start a line (newline + indentation)
    rename_separator: tuple  # instruction tokens between the old and the new name (" to ")
    rename_triggers: tuple  # token runs, any of which in the instruction enables renaming
    print_head: tuple  # source tokens that open a print statement ("print", "(")
    print_triggers: tuple  # (verbs, objects): one run of each enables print removal
    docstring_triggers: tuple  # token runs enabling docstring insertion
    def_ids: frozenset  # tokens of the ``def`` keyword
    quote: int  # the triple-quote token
    skip_words: frozenset  # signature tokens left out of the docstring draft (self, cls, underscores)


def _ids(value, what: str) -> tuple:
    if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
        raise AlignerSpecError(f"aligner.{what} must be a list of token ids")
    return tuple(value)


def _runs(value, what: str) -> tuple:
    if not isinstance(value, list):
        raise AlignerSpecError(f"aligner.{what} must be a list of token-id lists")
    return tuple(_ids(v, what) for v in value)


def vocabulary_from_spec(spec: dict) -> Vocabulary:
    if not isinstance(spec, dict) or spec.get("kind") != "edit-draft-v1":
        raise AlignerSpecError(f"unknown aligner kind {spec.get('kind') if isinstance(spec, dict) else spec!r}; "
                               "expected 'edit-draft-v1'")
    try:
        triggers = spec["print_triggers"]
        return Vocabulary(
            pad=int(spec["pad"]), end=int(spec["end"]),
            words=frozenset(_ids(spec["word_ids"], "word_ids")),
            newlines=frozenset(_ids(spec["newline_ids"], "newline_ids")),
            rename_separator=_ids(spec["rename_separator"], "rename_separator"),
            rename_triggers=_runs(spec["rename_triggers"], "rename_triggers"),
            print_head=_ids(spec["print_head"], "print_head"),
            print_triggers=(_runs(triggers[0], "print_triggers"), _runs(triggers[1], "print_triggers")),
            docstring_triggers=_runs(spec["docstring_triggers"], "docstring_triggers"),
            def_ids=frozenset(_ids(spec["def_ids"], "def_ids")),
            quote=int(spec["quote"]),
            skip_words=frozenset(_ids(spec["skip_words"], "skip_words")),
        )
    except (KeyError, IndexError, TypeError) as exc:
        raise AlignerSpecError(f"aligner spec is incomplete: {exc!r}") from None


def _find(seq: list[int], run: tuple, start: int = 0) -> int:
    n = len(run)
    for i in range(start, len(seq) - n + 1):
        if tuple(seq[i:i + n]) == run:
            return i
    return -1


def _has_any(seq: list[int], runs: tuple) -> bool:
    return any(_find(seq, r) >= 0 for r in runs)


def rename_pair(vocab: Vocabulary, instruction: list[int]) -> tuple[tuple, tuple] | None:
    """(old, new) token runs of 'rename OLD to NEW', or None."""
    if not _has_any(instruction, vocab.rename_triggers):
        return None
    at = _find(instruction, vocab.rename_separator)
    if at < 0:
        return None
    w = vocab.words
    i = at
    while i > 0 and instruction[i - 1] in w:
        i -= 1
    old = tuple(instruction[i:at])
    j = at + len(vocab.rename_separator)
    k = j
    while k < len(instruction) and instruction[k] in w:
        k += 1
    new = tuple(instruction[j:k])
    return (old, new) if old and new else None


def predicted_output(vocab: Vocabulary, source: list[int], instruction: list[int]) -> tuple[list[int], list[int]]:
    """The predicted output and, per predicted token, the index of the source token it stands for."""
    pred, origin = list(source), list(range(len(source)))
    w = vocab.words
    pair = rename_pair(vocab, instruction)
    if pair:
        old, new = pair
        n = len(old)
        out, org = [], []
        i = 0
        while i < len(source):
            if (tuple(source[i:i + n]) == old and (i == 0 or source[i - 1] not in w)
                    and (i + n >= len(source) or source[i + n] not in w)):
                out += new
                org += [i] * len(new)
                i += n
            else:
                out.append(source[i])
                org.append(i)
                i += 1
        pred, origin = out, org
    verbs, objects = vocab.print_triggers
    if _has_any(instruction, verbs) and _has_any(instruction, objects):
        head, nl = vocab.print_head, vocab.newlines
        out, org = [], []
        i = 0
        while i < len(pred):
            if pred[i] in nl and tuple(pred[i + 1:i + 1 + len(head)]) == head:
                j = i + 1
                while j < len(pred) and pred[j] not in nl:
                    j += 1
                i = j  # drop the line: its leading newline and the statement
                continue
            out.append(pred[i])
            org.append(origin[i])
            i += 1
        pred, origin = out, org
    if _has_any(instruction, vocab.docstring_triggers):
        d = next((i for i, t in enumerate(pred) if t in vocab.def_ids), -1)
        q = next((i for i in range(d + 1, len(pred)) if pred[i] in vocab.newlines), -1) if d >= 0 else -1
        if q > 0:
            words = [t for t in pred[d + 1:q] if t in w and t not in vocab.skip_words]
            insert = [vocab.quote, *words, vocab.quote, pred[q]]
            at = origin[q + 1] if q + 1 < len(origin) else len(source)
            pred = pred[:q + 1] + insert + pred[q + 1:]
            origin = origin[:q + 1] + [at] * len(insert) + origin[q + 1:]
    return pred, origin


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

    @property
    def predicted(self) -> list[int]:
        """The predicted output (for tests and diagnostics)."""
        return list(self._pred.seq)


def make_aligner(spec: dict, source_ids: list[int], instruction_ids: list[int]) -> Aligner:
    """The engine's entry point: `spec` is the "aligner" object of tessera.json."""
    return aligner_for(vocabulary_from_spec(spec), source_ids, instruction_ids)


def aligner_for(vocab: Vocabulary, source_ids: list[int], instruction_ids: list[int]) -> Aligner:
    """As make_aligner, with the spec already parsed (training builds many aligners)."""
    source = [int(t) for t in source_ids]
    pred, origin = predicted_output(vocab, source, [int(t) for t in instruction_ids])
    return Aligner(vocab, _Track(pred), _Track(source), origin)
