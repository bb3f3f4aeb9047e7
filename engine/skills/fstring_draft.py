"""The f-string skill's draft rewrite: ``'..'.format(..)`` and ``'..' % ..`` literals of the
source's tokens rewritten into f-string token runs.

Token-level and approximate (spacing inside merged punctuation may differ from what the
tokenizer gives the real f-string); the aligner's suffix lookup absorbs such differences.
"""

from __future__ import annotations

from .percent import CONVERSION, NUMERIC, convertible
from .tokens import CLOSE, OPEN, Vocabulary, respace, triggered

TRIGGER = ("fstring", ((" to f-string", " with f-string", " into f-string", " to f-strings", " with f-strings",
                        " into f-strings", "use f-string", "Use f-string", "use f-strings", "Use f-strings"),))
# a phrase that starts with a space is matched as it tokenizes after a word ("convert to f-strings")


def _split_args(vocab: Vocabulary, seq: list[int], start: int) -> tuple[list[list[int]], int] | None:
    """Arguments of a call whose '(' is at seq[start-1]: (token runs, index after ')')."""
    punct = vocab.punct
    args, cur, depth, i = [], [], 0, start
    while i < len(seq):
        c = punct.get(seq[i], "")
        if seq[i] in vocab.newlines:
            return None
        if c in OPEN:
            depth += 1
        elif c in CLOSE:
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
        if c in OPEN and (depth > 0 or seq[i] == vocab.bare.get(c, seq[i])):
            depth += 1
        elif c in CLOSE and depth > 0:
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
        m = CONVERSION.fullmatch("%" + text)
        if k >= len(args) or m is None or not convertible(m):
            return None
        body = lit[i + 1:j]
        if m["type"] not in NUMERIC:
            conv = [] if text == "s" else [b["!"], *body]
            out += _field(vocab, args[k], conv, lit[i])
        else:
            out += _field(vocab, args[k], [b[":"], *body], lit[i])
        k += 1
        i = j
    return out if k == len(args) else None


def draft(vocab: Vocabulary, seq: list[int], origin: list[int], instruction: list[int], n_source: int):
    """The predicted output with ``.format`` and ``%`` literals as f-strings, when asked."""
    if not triggered(vocab, TRIGGER[0], instruction):
        return seq, origin
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
