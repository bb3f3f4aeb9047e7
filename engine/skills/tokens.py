"""Token facts of a model's vocabulary that the draft rewrites read, and re-spacing of a rewritten run.

A skill's draft rewrite (engine/skills/) works on the source's token ids, not on text: it needs
to know which tokens are identifier characters, which start a line, which spell a quote or a
bracket, and how the instruction's trigger words tokenize. Those facts come from the "aligner"
object of tessera.json (written by engine/training/spec.py) and are parsed here once per model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPEN, CLOSE = frozenset("([{"), frozenset(")]}")


class AlignerSpecError(ValueError):
    """tessera.json's "aligner" object is not usable."""


@dataclass
class Vocabulary:
    pad: int  # marker on prompt positions
    end: int  # draft past the end of the predicted output
    words: frozenset  # ids of tokens made only of identifier characters
    newlines: frozenset  # ids of tokens that start a line (newline + indentation)
    triggers: dict  # skill → groups of token runs; every group must occur in the instruction
    rename_separator: tuple  # instruction tokens between the old and the new name (" to ")
    print_head: tuple  # source tokens that open a print statement ("print", "(")
    def_ids: frozenset  # tokens of the ``def`` keyword
    skip_words: frozenset  # parameter names left out of a docstring (self, cls)
    punct: dict  # token id → the punctuation character it spells (spaces stripped)
    bare: dict  # character or role → its token: quotes, braces, "!", ":", "f", '"""', " ", " given ", ...
    word_text: dict  # token id → its text (every ordinary token)
    by_text: dict  # text → token id, the inverse of word_text
    pretoken: object  # compiled pre-tokenizer pattern (re.Pattern) or None
    heads: dict  # first word of a function name (token run) → its docstring verb ("parse" → "Parse")
    default_head: tuple  # docstring verb when the name does not start with a known one ("Return")


def _ids(value, what: str) -> tuple:
    if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
        raise AlignerSpecError(f"aligner.{what} must be a list of token ids")
    return tuple(value)


def _groups(value, what: str) -> tuple:
    if not isinstance(value, list) or not all(isinstance(g, list) for g in value):
        raise AlignerSpecError(f"aligner.{what} must be a list of groups of token-id lists")
    return tuple(tuple(_ids(r, what) for r in g) for g in value)


def vocabulary_from_spec(spec: dict) -> Vocabulary:
    if not isinstance(spec, dict) or spec.get("kind") != "edit-draft-v1":
        raise AlignerSpecError(f"unknown aligner kind {spec.get('kind') if isinstance(spec, dict) else spec!r}; "
                               "expected 'edit-draft-v1'")
    try:
        return Vocabulary(
            pad=int(spec["pad"]), end=int(spec["end"]),
            words=frozenset(_ids(spec["word_ids"], "word_ids")),
            newlines=frozenset(_ids(spec["newline_ids"], "newline_ids")),
            triggers={k: _groups(v, f"triggers.{k}") for k, v in spec["triggers"].items()},
            rename_separator=_ids(spec["rename_separator"], "rename_separator"),
            print_head=_ids(spec["print_head"], "print_head"),
            def_ids=frozenset(_ids(spec["def_ids"], "def_ids")),
            skip_words=frozenset(_ids(spec["skip_words"], "skip_words")),
            punct={int(i): c for c, ids in spec["punct"].items() for i in ids},
            bare={c: int(i) for c, i in spec["bare"].items()},
            word_text={int(i): str(t) for i, t in spec["token_text"].items()},
            by_text={str(t): int(i) for i, t in spec["token_text"].items()},
            pretoken=re.compile(spec["pretoken_pattern"]) if spec.get("pretoken_pattern") else None,
            heads={_ids(k, "heads"): _ids(v, "heads") for k, v in spec["heads"]},
            default_head=_ids(spec["default_head"], "default_head"),
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, AlignerSpecError):
            raise
        raise AlignerSpecError(f"aligner spec is incomplete: {exc!r}") from None


def find(seq: list[int], run: tuple, start: int = 0) -> int:
    """Index of the first occurrence of `run` in `seq` at or after `start`, or -1."""
    n = len(run)
    for i in range(start, len(seq) - n + 1):
        if tuple(seq[i:i + n]) == run:
            return i
    return -1


def triggered(vocab: Vocabulary, trigger: str, instruction: list[int]) -> bool:
    """Every group of the trigger's token runs has a run in the instruction."""
    groups = vocab.triggers.get(trigger)
    return bool(groups) and all(any(find(instruction, r) >= 0 for r in g) for g in groups)


def indent_of(vocab: Vocabulary, newline_token: int) -> int:
    """Columns of indentation a newline token carries."""
    return len(vocab.word_text.get(newline_token, "\n")) - 1


def header_end(vocab: Vocabulary, pred: list[int], d: int) -> int:
    """The newline token that ends the ``def`` header starting at `d` (brackets closed), or -1."""
    depth = 0
    for i in range(d + 1, len(pred)):
        c = vocab.punct.get(pred[i], "")
        if c in OPEN:
            depth += 1
        elif c in CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and pred[i] in vocab.newlines:
            return i
    return -1


def respace(vocab: Vocabulary, run: list[int]) -> list[int]:
    """Re-split a predicted token run the way the tokenizer would split its text.

    Spaces attach to neighbouring punctuation and keywords depending on context (``'} '``,
    ``' {'``, ``' from '``), so a run assembled from pieces may be spelled with other tokens than
    the tokenizer gives the same text. Pre-tokens that are one vocabulary token are looked up;
    others (long words) keep the tokens they were assembled from, which BPE would give again
    because it works inside one pre-token."""
    if vocab.pretoken is None:
        return run
    texts = [vocab.word_text.get(t) for t in run]
    if any(t is None for t in texts):
        return run
    starts, pos = [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t)
    text = "".join(texts)
    out, k = [], 0
    for m in vocab.pretoken.finditer(text):
        a, z = m.span()
        tid = vocab.by_text.get(text[a:z])
        while k < len(run) and starts[k] < a:
            k += 1
        if tid is not None:
            out.append(tid)
            continue
        j = k
        while j < len(run) and starts[j] < z:
            out.append(run[j])
            j += 1
        k = j
    return out
