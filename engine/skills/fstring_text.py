"""Old string formatting rewritten to f-strings in the source's own text: each literal piece of an
implicitly concatenated string keeps its line, quotes, escapes and the comments between pieces;
only the pieces with fields get the ``f`` prefix, and the ``.format(...)``/``% args`` goes.

``'Renaming %s '\\n    'to %s' % (a, b)`` becomes ``f'Renaming {a} '\\n    f'to {b}'``: the edit a
person makes, line by line, instead of one joined line (what ``ast.unparse`` writes). Used by the
as-written training pairs (engine/training/written.py) and by the skill's draft of a whole target
(engine/skills/fstrings.py ``rewrite``); a rewrite whose expression differs from the tree-level
f-string is not used.
"""

from __future__ import annotations

import ast
import io
import re
import string
import tokenize

from .kind import ast_offsets
from .percent import CONVERSION

_PREFIX = re.compile(r"[A-Za-z]*")


def _pieces(text: str) -> list[tuple[int, int]] | None:
    """(start, end) of each STRING token of a literal's source text, or None."""
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    lines = [0]
    for ln in text.splitlines(keepends=True):
        lines.append(lines[-1] + len(ln))
    out = []
    for t in toks:
        if t.type == tokenize.STRING:
            out.append((lines[t.start[0] - 1] + t.start[1], lines[t.end[0] - 1] + t.end[1]))
        elif t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENDMARKER,
                            tokenize.INDENT, tokenize.DEDENT):
            return None
    return out or None


def _field(code: str, fv: ast.FormattedValue, quote: str) -> str | None:
    src = ast.get_source_segment(code, fv.value)
    if src is None or "\n" in src or "\\" in src or quote in src or "{" in src or "}" in src:
        return None  # an expression an f-string of this quote cannot hold (Python 3.11)
    if src.startswith("{"):
        src = " " + src
    conv = "" if fv.conversion == -1 else "!" + chr(fv.conversion)
    spec = "" if fv.format_spec is None else ":" + "".join(p.value for p in fv.format_spec.values)
    return "{" + src + conv + spec + "}"


def _escape(literal: str) -> str:
    return literal.replace("{", "{{").replace("}", "}}")


def _percent_piece(body: str, fields: list[str]) -> tuple[str, int, bool] | None:
    """(new body, fields used, has a field) of one piece of a ``%`` template."""
    out, pos, used = [], 0, 0
    for m in CONVERSION.finditer(body):
        out.append(_escape(body[pos:m.start()]))
        pos = m.end()
        if m["percent"]:
            out.append("%")
            continue
        if used >= len(fields):
            return None
        out.append(fields[used])
        used += 1
    out.append(_escape(body[pos:]))
    return "".join(out), used, used > 0 or "{" in body or "}" in body


def _format_piece(body: str, fields: list[str]) -> tuple[str, int, bool] | None:
    """(new body, fields used, needs the f prefix) of one piece of a ``str.format`` template."""
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError:
        return None  # a field split between two pieces
    out, used = [], 0
    for literal, name, _spec, _conv in parsed:
        out.append(_escape(literal))
        if name is None:
            continue
        if used >= len(fields):
            return None
        out.append(fields[used])
        used += 1
    return "".join(out), used, used > 0 or "{{" in body or "}}" in body


def in_place(code: str, old: ast.expr, new: ast.JoinedStr) -> str | None:
    """The text that replaces ``old`` (a ``'...'.format(...)`` call or a ``'...' % args``), piece by
    piece, or None where the rewrite cannot keep the source's pieces."""
    lit = old.func.value if isinstance(old, ast.Call) else old.left
    seg = ast.get_source_segment(code, old, padded=False)
    lit_seg = ast.get_source_segment(code, lit)
    if seg is None or lit_seg is None:
        return None
    at = seg.find(lit_seg)
    pieces = _pieces(lit_seg)
    if at < 0 or pieces is None:
        return None
    values = [v for v in new.values if isinstance(v, ast.FormattedValue)]
    out, pos, k = [seg[:at]], 0, 0
    for s, e in pieces:
        tok = lit_seg[s:e]
        prefix = _PREFIX.match(tok).group().lower()
        if prefix not in ("", "r", "u"):
            return None
        quote = tok[len(prefix):][:3] if tok[len(prefix):][:3] in ('"""', "'''") else tok[len(prefix)]
        body = tok[len(prefix) + len(quote):-len(quote)]
        fields = []
        for fv in values[k:]:
            f = _field(code, fv, quote[0])
            if f is None:
                return None
            fields.append(f)
        made = (_format_piece if isinstance(old, ast.Call) else _percent_piece)(body, fields)
        if made is None:
            return None
        text, used, needs_f = made
        k += used
        if not needs_f:  # a piece without fields keeps its own text (``%%`` spelled once)
            text = body.replace("%%", "%") if not isinstance(old, ast.Call) else body
        pre = ("r" if "r" in prefix else "") + "f" if needs_f else tok[:len(prefix)]
        out += [lit_seg[pos:s], pre + quote + text + quote]
        pos = e
    if k != len(values):
        return None
    out.append(lit_seg[pos:])
    out.append(")" * seg[:at].count("("))  # the literal's own parentheses
    text = "".join(out)
    try:
        got = ast.parse("(" + text.strip() + "\n)", mode="eval").body  # a line break stays inside brackets
    except SyntaxError:
        return None
    return text if ast.dump(got) == ast.dump(new) else None


# --- reverse: the stdlib's f-strings into old formatting, piece by piece ------------------------

_OPEN, _CLOSE = "([{", ")]}"


def _fields_of(body: str) -> list[tuple[int, int, str, str]] | None:
    """(start, end, expression text, conversion and spec text) of each field of an f-string body."""
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c in "{}" and body[i + 1:i + 2] == c:
            i += 2
            continue
        if c == "}":
            return None
        if c != "{":
            i += 1
            continue
        depth, j, quote = 0, i + 1, None
        while j < len(body):
            d = body[j]
            if quote:
                quote = None if d == quote else quote
            elif d in "'\"":
                quote = d
            elif d in _OPEN:
                depth += 1
            elif d in _CLOSE and depth:
                depth -= 1
            elif depth == 0 and (d in "!:}" and not (d == "!" and body[j + 1:j + 2] == "=")):
                break
            j += 1
        k = body.find("}", j)
        if j >= len(body) or k < 0 or "{" in body[j:k]:
            return None  # a nested field in the spec: not one old formatting spells
        out.append((i, k + 1, body[i + 1:j], body[j:k]))
        i = k + 1
    return out


def _old_field(tail: str, percent: bool) -> str | None:
    """``%s``/``{}`` for a field's ``!r:spec`` text."""
    conv, _, spec = tail.partition(":")
    if conv and conv not in ("!r", "!s", "!a"):
        return None
    if not percent:
        return "{" + conv + (":" + spec if spec else "") + "}"
    if spec:
        return None if conv or CONVERSION.fullmatch("%" + spec) is None else "%" + spec
    return "%" + (conv[1] if conv else "s")


def _arg(text: str) -> str:
    simple = re.fullmatch(r"[\w.]+(\(.*\)|\[.*\])?", text.strip()) is not None
    return text.strip() if simple else "(" + text.strip() + ")"


def reverse_in_place(code: str, js: ast.JoinedStr, percent: bool) -> tuple[str, list[str]] | None:
    """The text of f-string `js` rewritten to ``'...' % args`` (`percent`) or ``'...'.format(args)``,
    each piece on its own line as written, and the argument texts; None where it cannot be."""
    seg = ast.get_source_segment(code, js)
    pieces = _pieces(seg) if seg is not None else None
    if pieces is None:
        return None
    out, pos, args = [], 0, []
    for s, e in pieces:
        tok = seg[s:e]
        prefix = _PREFIX.match(tok).group().lower()
        rest = tok[len(prefix):]
        quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[:1]
        body = rest[len(quote):-len(quote)]
        if "f" not in prefix:
            if percent and "%" in body or not percent and ("{" in body or "}" in body):
                return None  # would need escaping in the template
            out += [seg[pos:s], tok]
            pos = e
            continue
        fields = _fields_of(body)
        if fields is None:
            return None
        text, at = [], 0
        for a, b, expr, tail in fields:
            lit = body[at:a]
            text.append(lit.replace("{{", "{").replace("}}", "}").replace("%", "%%") if percent else lit)
            spelled = _old_field(tail, percent)
            if spelled is None or not expr.strip() or expr.strip().endswith("="):
                return None
            text.append(spelled)
            args.append(expr)
            at = b
        lit = body[at:]
        text.append(lit.replace("{{", "{").replace("}}", "}").replace("%", "%%") if percent else lit)
        out += [seg[pos:s], prefix.replace("f", "") + quote + "".join(text) + quote]
        pos = e
    if not args:
        return None
    out.append(seg[pos:])
    if percent:
        call = " % " + (_arg(args[0]) if len(args) == 1 else "(" + ", ".join(a.strip() for a in args) + ")")
    else:
        call = ".format(" + ", ".join(a.strip() for a in args) + ")"
    return "".join(out) + call, args


# --- the rule's edit of a whole target, in its own text -------------------------------------------

def same_quotes(original: str, fstring: str) -> str:
    """The f-string spelled with the original literal's quote character where it can be
    (``ast.unparse`` prefers single quotes; the expected output keeps the source's own)."""
    m = re.match(r"[rRbBuU]*([\"'])", original)
    if m is None or m.group(1) != '"' or not (fstring.startswith("f'") and fstring.endswith("'")):
        return fstring
    inner = fstring[2:-1]
    if '"' in inner or "\\'" in inner:
        return fstring
    return f'f"{inner}"'


def rewrites(code: str) -> list[tuple[int, int, str]] | None:
    """(start, end, new text) of each outermost old formatting in `code` that the skill's rule
    (engine/skills/fstrings.py ``Modernise``) turns into an f-string, spelled in the source's own
    pieces (``in_place``) or, where it cannot keep them, on one line with the literal's quotes;
    None where `code` does not parse."""
    from .fstrings import Modernise

    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    spans: list[tuple[ast.AST, ast.AST]] = []

    class Record(Modernise):
        def visit_Call(self, node):
            res = super().visit_Call(node)
            if res is not node:
                spans.append((node, res))
            return res

        def visit_BinOp(self, node):
            res = super().visit_BinOp(node)
            if res is not node:
                spans.append((node, res))
            return res

    Record().visit(tree)
    offset = ast_offsets(code)
    at = sorted(((offset(o.lineno, o.col_offset), offset(o.end_lineno, o.end_col_offset), o, n) for o, n in spans),
                key=lambda x: (x[0], -x[1]))
    out, reach = [], -1
    for s, e, o, n in at:
        if s >= reach:  # outermost only: an outer rewrite already holds the inner ones
            try:
                text = in_place(code, o, n) or same_quotes(code[s:e], ast.unparse(n))
            except (ValueError, RecursionError):
                return None
            out.append((s, e, text))
            reach = e
    return out


def rewrite(code: str) -> str | None:
    """`code` with the skill's edit made in its own text, or None where it does not parse or has
    nothing to convert. The draft the model is shown for a target (engine/skills/__init__.py)."""
    edits = rewrites(code)
    if not edits:
        return None
    out, pos = [], 0
    for s, e, text in edits:
        out += [code[pos:s], text]
        pos = e
    out.append(code[pos:])
    return "".join(out)
