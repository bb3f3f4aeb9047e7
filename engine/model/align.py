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
suffixes from 8 back to 128 ahead; nearest at/after the pointer first), and the pointer moves
just past it; no match leaves it in place. The source pointer follows the predicted pointer
whenever the output agrees with the prediction and runs the same lookup on the source otherwise.

Everything here is pure Python on small integer lists: the common step is two comparisons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

FEATURES = ("draft", "draft_next", "source")
SUFFIX_MAX = 4  # longest output suffix looked up, tokens
ONE_TOKEN_AHEAD = 6  # a single token is looked up only this far ahead of the pointer
BACK = 8  # longer suffixes may move the pointer this far back (little: a far jump back replays
# text already written, and the model then loops)...
AHEAD = 128  # ...or this far ahead


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


def _find(seq: list[int], run: tuple, start: int = 0) -> int:
    n = len(run)
    for i in range(start, len(seq) - n + 1):
        if tuple(seq[i:i + n]) == run:
            return i
    return -1


def _has_any(seq: list[int], runs: tuple) -> bool:
    return any(_find(seq, r) >= 0 for r in runs)


def triggered(vocab: Vocabulary, skill: str, instruction: list[int]) -> bool:
    groups = vocab.triggers.get(skill)
    return bool(groups) and all(_has_any(instruction, g) for g in groups)


def rename_pair(vocab: Vocabulary, instruction: list[int]) -> tuple[tuple, tuple] | None:
    """(old, new) token runs of 'rename OLD to NEW', or None."""
    if not triggered(vocab, "rename", instruction):
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


def _string_mask(vocab: Vocabulary, seq: list[int]) -> list[bool]:
    """True on the tokens of plain (not f-) string literals and of comments, where a rename does
    not apply."""
    punct, b = vocab.punct, vocab.bare
    triple = {b.get('"""'), b.get("'''")}
    mask = [False] * len(seq)
    i = 0
    while i < len(seq):
        t = seq[i]
        if vocab.word_text.get(t, "").lstrip(" ").startswith("#"):  # a comment, to the line's end
            while i < len(seq) and seq[i] not in vocab.newlines:
                mask[i] = True
                i += 1
            continue
        q = '"""' if t in triple else punct.get(t)
        prefix = vocab.word_text.get(seq[i - 1], "").lower() if i > 0 and seq[i - 1] in vocab.words else ""
        if q not in ("'", '"', '"""') or "f" in prefix:
            i += 1
            continue
        j = i + 1
        while j < len(seq) and (seq[j] != t if q == '"""' else (punct.get(seq[j]) != q and seq[j] not in vocab.newlines)):
            j += 1
        if j >= len(seq):
            break
        for k in range(i, j + 1):
            mask[k] = True
        i = j + 1
    return mask


def _rename_here(vocab: Vocabulary, pred: list[int], i: int, n: int, function: bool, body_start: int) -> bool:
    """Whether the identifier at pred[i:i+n] is a use the rename covers: not an attribute (except
    ``self.``/``cls.`` calls of a renamed method), not a keyword argument of a call."""
    b = vocab.bare
    if i > 0 and vocab.punct.get(pred[i - 1]) == ".":
        return function and i > 1 and pred[i - 2] in vocab.skip_words
    if i >= body_start and i + n < len(pred) and pred[i + n] == b.get("="):
        return False  # f(name=...) outside the signature
    return True


def _rename(vocab: Vocabulary, pred: list[int], origin: list[int], old: tuple, new: tuple):
    w, n = vocab.words, len(old)
    in_string = _string_mask(vocab, pred)
    d = next((i for i, t in enumerate(pred) if t in vocab.def_ids), -1)
    k = d + 1
    while 0 < k < len(pred) and pred[k] in w:
        k += 1
    function = d >= 0 and tuple(pred[d + 1:k]) == old
    body_start = next((i for i in range(max(d, 0), len(pred)) if pred[i] in vocab.newlines), len(pred))
    out, org, i = [], [], 0
    while i < len(pred):
        if (tuple(pred[i:i + n]) == old and not in_string[i] and (i == 0 or pred[i - 1] not in w)
                and (i + n >= len(pred) or pred[i + n] not in w)
                and _rename_here(vocab, pred, i, n, function, body_start)):
            out += new
            org += [origin[i]] * len(new)
            i += n
        else:
            out.append(pred[i])
            org.append(origin[i])
            i += 1
    return out, org


def _indent(vocab: Vocabulary, newline_token: int) -> int:
    return len(vocab.word_text.get(newline_token, "\n")) - 1


def _drop_prints(vocab: Vocabulary, pred: list[int], origin: list[int]):
    """Drop lines that start with ``print(``; a block left empty gets ``pass`` instead."""
    head, nl = vocab.print_head, vocab.newlines
    out, org, i = [], [], 0
    while i < len(pred):
        if pred[i] in nl and tuple(pred[i + 1:i + 1 + len(head)]) == head:
            j, depth = i + 1, 0
            while j < len(pred) and (pred[j] not in nl or depth > 0):  # continuation lines too
                c = vocab.punct.get(pred[j], "")
                depth += (c in _OPEN) - (c in _CLOSE)
                j += 1
            opens_block = bool(out) and vocab.punct.get(out[-1]) == ":"
            block_ends = j >= len(pred) or _indent(vocab, pred[j]) < _indent(vocab, pred[i])
            if opens_block and block_ends and "pass" in vocab.bare:
                out += [pred[i], vocab.bare["pass"]]
                org += [origin[i], origin[i]]
            i = j  # drop the line: its leading newline and the statement
            continue
        out.append(pred[i])
        org.append(origin[i])
        i += 1
    return out, org


def _docstring(vocab: Vocabulary, sig: list[int]) -> list[int]:
    """The docstring run (Parse header given line and strict.) for the tokens of the def line after
    ``def ``: parse_header(self, line, strict=False):"""
    w, b, punct = vocab.words, vocab.bare, vocab.punct
    k = 0
    while k < len(sig) and sig[k] in w:
        k += 1
    # words of the name: split at underscores and lower→upper case changes, spelled in lower case
    name_words, cur, prev = [], [], ""
    for t in sig[:k]:
        text = vocab.word_text.get(t, "x")
        if set(text) == {"_"} or (cur and prev[-1:].islower() and text[:1].isupper()):
            if cur:
                name_words.append(cur)
            cur = []
        if set(text) != {"_"}:
            cur.append(vocab.by_text.get(text.lower(), t))
        prev = text
    if cur:
        name_words.append(cur)
    params, depth, seg_start = [], 0, True
    for i in range(k, len(sig)):
        if sig[i] in vocab.newlines or (sig[i - 1] in vocab.newlines and not vocab.word_text.get(sig[i], "x").strip()):
            continue  # a signature over several lines: its line breaks and indentation
        c = punct.get(sig[i], "")
        if c in _OPEN:
            depth += 1
            seg_start = depth == 1
            continue
        if c in _CLOSE:
            depth -= 1
            continue
        if depth == 1 and c == ",":
            seg_start = True
            continue
        if depth == 1 and seg_start and sig[i] in w:
            j = i
            while j < len(sig) and sig[j] in w:
                j += 1
            run = sig[i:j]
            if not (len(run) == 1 and run[0] in vocab.skip_words):
                params.append(run)
            seg_start = False
        elif depth == 1 and vocab.word_text.get(sig[i], "").strip() not in ("*", "**"):
            seg_start = False
    if not name_words:
        return []
    first, rest = name_words[0], name_words[1:]
    head = list(vocab.heads[tuple(first)]) if tuple(first) in vocab.heads else [*vocab.default_head, b[" "], *first]
    for run in rest:
        head += [b[" "], *run]
    if params:
        head.append(b[" given "])
        for i, run in enumerate(params):
            if i:
                head.append(b[" and "] if i == len(params) - 1 else b[", "])
            head += run
    return respace(vocab, [b['"""'], *head, b["."], b['"""']])


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


def predicted_output(vocab: Vocabulary, source: list[int], instruction: list[int]) -> tuple[list[int], list[int]]:
    """The predicted output and, per predicted token, the index of the source token it stands for."""
    pred, origin = list(source), list(range(len(source)))
    pair = rename_pair(vocab, instruction)
    if pair:
        pred, origin = _rename(vocab, pred, origin, *pair)
    if triggered(vocab, "remove_prints", instruction):
        pred, origin = _drop_prints(vocab, pred, origin)
    if triggered(vocab, "fstring", instruction):
        pred, origin = fstring_prediction(vocab, pred, origin)
    if triggered(vocab, "add_docstring", instruction):
        d = next((i for i, t in enumerate(pred) if t in vocab.def_ids), -1)
        q = _header_end(vocab, pred, d) if d >= 0 else -1
        if q > 0:
            insert = _docstring(vocab, pred[d + 1:q])
            if insert:
                # the docstring line takes the body's indentation (the header may be followed by a blank line)
                nl = next((t for t in pred[q:] if t in vocab.newlines and _indent(vocab, t) > 0), pred[q])
                at = origin[q + 1] if q + 1 < len(origin) else len(source)
                pred = pred[:q] + [nl] + insert + pred[q:]
                origin = origin[:q + 1] + [at] * (len(insert) + 1) + origin[q + 1:]
    return pred, origin


def _header_end(vocab: Vocabulary, pred: list[int], d: int) -> int:
    """The newline token that ends the ``def`` header starting at `d` (brackets closed), or -1."""
    depth = 0
    for i in range(d + 1, len(pred)):
        c = vocab.punct.get(pred[i], "")
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and pred[i] in vocab.newlines:
            return i
    return -1


_PERCENT_SPEC = re.compile(r"[sra]|0?\d*(?:\.\d+)?[dfegxXo]")
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")


def _split_args(vocab: Vocabulary, seq: list[int], start: int) -> tuple[list[list[int]], int] | None:
    """Arguments of a call whose '(' is at seq[start-1]: (token runs, index after ')')."""
    punct = vocab.punct
    args, cur, depth, i = [], [], 0, start
    while i < len(seq):
        c = punct.get(seq[i], "")
        if seq[i] in vocab.newlines:
            return None
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            if depth == 0:
                if cur:
                    args.append(cur)
                return args, i + 1
            depth -= 1
        if c == "," and depth == 0:
            args.append(cur)
            cur = []
        else:
            cur.append(seq[i])
        i += 1
    return None


def _single_arg(vocab: Vocabulary, seq: list[int], start: int) -> tuple[list[list[int]], int]:
    """The operand right of '%' when it is not a tuple: a name with its trailers (``a.b(c)[d]``);
    '%' binds tighter than '+', comparisons, ``if``, ``for``, so any other token ends it."""
    punct, dot = vocab.punct, vocab.bare.get(".")
    depth, i = 0, start
    while i < len(seq) and seq[i] not in vocab.newlines:
        c = punct.get(seq[i], "")
        if c in _OPEN and (depth > 0 or seq[i] == vocab.bare.get(c, seq[i])):
            depth += 1
        elif c in _CLOSE and depth > 0:
            depth -= 1
        elif depth == 0 and not (seq[i] in vocab.words or seq[i] == dot):
            break
        i += 1
    return [list(seq[start:i])], i


def _field(vocab: Vocabulary, arg: list[int], spec_toks: list[int], opener: int) -> list[int]:
    """``{arg<spec>}``, keeping the space the source's opening token (``' {'``, ``' %'``) carried."""
    b = vocab.bare
    lead = [b[" "]] if vocab.word_text.get(opener, "").startswith(" ") else []
    return [*lead, b["{"], *arg, *spec_toks, b["}"]]


def _format_fields(vocab: Vocabulary, lit: list[int], args: list[list[int]]) -> list[int] | None:
    """Literal of a ``.format`` call with each ``{...}`` field filled by its argument."""
    punct, words = vocab.punct, vocab.word_text
    named: dict[tuple, list[int]] = {}  # keyword arguments: name tokens → value tokens
    for a in args:
        n = 0
        while n < len(a) and a[n] in vocab.words:
            n += 1
        if 0 < n < len(a) and a[n] == vocab.bare.get("="):
            named[tuple(a[:n])] = a[n + 1:]
    args = [a for a in args if not any(tuple(a[:len(k)]) == k and a[len(k):len(k) + 1] == [vocab.bare.get("=")]
                                       for k in named)]
    out, i, auto = [], 0, 0
    while i < len(lit):
        c = punct.get(lit[i])
        if c == "{" and i + 1 < len(lit) and punct.get(lit[i + 1]) == "{":
            out += lit[i:i + 2]
            i += 2
            continue
        if c != "{":
            out.append(lit[i])
            i += 1
            continue
        j = i + 1
        while j < len(lit) and punct.get(lit[j]) != "}":
            j += 1
        if j >= len(lit):
            return None
        inner = lit[i + 1:j]
        index = words.get(inner[0], "") if inner else ""
        if index.isdigit():
            value, inner = (args[int(index)] if int(index) < len(args) else None), inner[1:]
        elif index and inner[0] in vocab.words:
            n = 1
            while n < len(inner) and inner[n] in vocab.words:
                n += 1
            value, inner = named.get(tuple(inner[:n])), inner[n:]
        else:
            value, auto = (args[auto] if auto < len(args) else None), auto + 1
        if value is None:
            return None
        out += _field(vocab, value, inner, lit[i])
        if vocab.word_text.get(lit[j], "").endswith(" "):
            out.append(vocab.bare[" "])  # the closing token carried a space ('} ')
        i = j + 1
    return out


def _percent_fields(vocab: Vocabulary, lit: list[int], args: list[list[int]]) -> list[int] | None:
    """Literal of a ``%`` format with each conversion replaced by an f-string field."""
    punct, words, b = vocab.punct, vocab.word_text, vocab.bare
    out, i, k = [], 0, 0
    while i < len(lit):
        if punct.get(lit[i]) != "%":
            out.append(lit[i])
            i += 1
            continue
        nxt = lit[i + 1] if i + 1 < len(lit) else None
        if punct.get(nxt) == "%":
            out.append(lit[i])
            i += 2
            continue
        # %[0][width][.precision]type, spelled by one or more tokens ('%', '.', '2', 'f' or '.', '2f')
        j, text = i + 1, ""
        while j < len(lit) and len(text) < 8:
            piece = words.get(lit[j], "")
            if piece.strip(" ") != piece or not piece:
                break
            text += piece
            j += 1
            if text[-1:].isalpha():
                break
        spec_ok = _PERCENT_SPEC.fullmatch(text)
        if k >= len(args) or not spec_ok:
            return None
        body = lit[i + 1:j]
        if text in ("s", "r", "a"):
            conv = [] if text == "s" else [b["!"], *body]
            out += _field(vocab, args[k], conv, lit[i])
        elif text[-1] in "dfegxXo":
            out += _field(vocab, args[k], [b[":"], *body], lit[i])
        else:
            return None
        k += 1
        i = j
    return out if k == len(args) else None


def fstring_prediction(vocab: Vocabulary, seq: list[int], origin: list[int]) -> tuple[list[int], list[int]]:
    """Rewrite ``'..'.format(..)`` and ``'..' % ..`` string literals into f-string token runs.

    Token-level and approximate (spacing inside merged punctuation may differ from what the
    tokenizer gives the real f-string); the pointer's suffix lookup absorbs such differences."""
    punct, words = vocab.punct, vocab.word_text
    out, org, i = [], [], 0
    while i < len(seq):
        q = punct.get(seq[i])
        prev_word = words.get(seq[i - 1], "") if i > 0 else ""
        if q not in ("'", '"') or (i > 0 and seq[i - 1] in vocab.words and prev_word.lower() in ("f", "b", "r", "rb", "br", "u", "fr", "rf")):
            out.append(seq[i])
            org.append(origin[i])
            i += 1
            continue
        j = i + 1
        while j < len(seq) and punct.get(seq[j]) != q and seq[j] not in vocab.newlines:
            j += 1
        if j >= len(seq) or punct.get(seq[j]) != q:
            out.append(seq[i])
            org.append(origin[i])
            i += 1
            continue
        lit = seq[i + 1:j]
        new, end = None, j + 1
        if (j + 3 < len(seq) and punct.get(seq[j + 1]) == "." and words.get(seq[j + 2]) == "format"
                and punct.get(seq[j + 3]) == "("):
            parsed = _split_args(vocab, seq, j + 4)
            if parsed:
                args, end = parsed
                new = _format_fields(vocab, lit, args)
        elif j + 2 < len(seq) and punct.get(seq[j + 1]) == "%":
            if punct.get(seq[j + 2]) == "(":
                parsed = _split_args(vocab, seq, j + 3)
            else:
                parsed = _single_arg(vocab, seq, j + 2)
            if parsed:
                args, end = parsed
                new = _percent_fields(vocab, lit, args)
        if new is None:
            out += seq[i:j + 1]
            org += origin[i:j + 1]
            i = j + 1
            continue
        inner = "".join(vocab.word_text.get(t, "") for t in new)
        other = '"' if q == "'" else "'"
        if q in inner and other in vocab.bare and other not in inner:
            # an f-string expression cannot hold its own quote (3.11): ast.unparse switches quotes
            piece = respace(vocab, [vocab.bare["f"], vocab.bare[other], *new, vocab.bare[other]])
        else:
            piece = respace(vocab, [vocab.bare["f"], seq[i], *new, vocab.bare[q]])
        out += piece
        org += [origin[i]] * len(piece)
        i = end
    return out, org


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


def make_aligner(spec: dict, source_ids: list[int], instruction_ids: list[int]) -> Aligner:
    """The engine's entry point: `spec` is the "aligner" object of tessera.json.

    Parsing a spec takes milliseconds (vocabulary tables, the pre-token pattern), so the parsed
    form is kept per spec object: a model's requests after the first start at once."""
    hit = _PARSED.get(id(spec))
    if hit is None or hit[0] is not spec:
        if len(_PARSED) > 8:
            _PARSED.clear()
        hit = _PARSED[id(spec)] = (spec, vocabulary_from_spec(spec))
    return aligner_for(hit[1], source_ids, instruction_ids)


def aligner_for(vocab: Vocabulary, source_ids: list[int], instruction_ids: list[int]) -> Aligner:
    """As make_aligner, with the spec already parsed (training builds many aligners)."""
    source = [int(t) for t in source_ids]
    pred, origin = predicted_output(vocab, source, [int(t) for t in instruction_ids])
    return Aligner(vocab, _Track(pred), _Track(source), origin)
