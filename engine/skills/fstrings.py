"""Convert string formatting to f-strings: phrasings and the training pairs (the draft rewrite is
engine/skills/fstring_draft.py).

f-string edits are rare in the wild, so most pairs are built in reverse: the standard library's
own f-strings rewritten into ``str.format``/``%`` make the source and the code as written is the
target. Real ``.format``/``%`` code converted forward makes the rest.
"""

from __future__ import annotations

import ast
import random
import string

from .kind import EditPair, Kind, parsed
from .percent import CONVERSION, numeric_spec

_PHRASINGS = ("convert to f-strings", "Convert to f-strings", "use f-strings", "convert string formatting to f-strings",
              "rewrite with f-strings", "change to f-strings", "Use f-strings")


def touches(instruction: str, code: str) -> bool:
    """Old formatting of a string literal in the code that an f-string can spell; a logging call's
    lazy ``%s`` arguments, a ``%(name)s`` mapping, a ``%`` in a comment or the word "format" do not
    count where the code parses."""
    if "%" not in code and "format" not in code:
        return False
    tree = parsed(code)
    if tree is None:
        return True
    modernise = Modernise()
    modernise.visit(tree)
    return modernise.changed > 0


# --- reverse: f-strings into old formatting -------------------------------------------------

def formattable(js: ast.JoinedStr) -> bool:
    """An f-string whose fields are plain expressions (no nested f-strings or computed specs)."""
    fields = [v for v in js.values if isinstance(v, ast.FormattedValue)]
    if not fields:
        return False
    for v in fields:
        if any(isinstance(n, ast.JoinedStr) for n in ast.walk(v.value)):
            return False
        spec = v.format_spec
        if spec is not None and not all(isinstance(p, ast.Constant) for p in spec.values):
            return False
    return True


def _spec_text(v: ast.FormattedValue) -> str:
    return "" if v.format_spec is None else "".join(p.value for p in v.format_spec.values)


def to_format_call(js: ast.JoinedStr) -> ast.expr:
    parts, args = [], []
    for v in js.values:
        if isinstance(v, ast.Constant):
            parts.append(v.value.replace("{", "{{").replace("}", "}}"))
        else:
            conv = "" if v.conversion == -1 else "!" + chr(v.conversion)
            spec = _spec_text(v)
            parts.append("{" + conv + (":" + spec if spec else "") + "}")
            args.append(v.value)
    return ast.Call(ast.Attribute(ast.Constant("".join(parts)), "format", ast.Load()), args, [])


def to_percent(js: ast.JoinedStr) -> ast.expr | None:
    """``'...' % args`` when every field maps onto a printf-style conversion, else None."""
    parts, args = [], []
    for v in js.values:
        if isinstance(v, ast.Constant):
            parts.append(v.value.replace("%", "%%"))
            continue
        spec = _spec_text(v)
        if v.conversion in (-1, ord("s")) and spec == "":
            parts.append("%s")
        elif v.conversion == ord("r") and spec == "":
            parts.append("%r")
        elif v.conversion == -1 and numeric_spec(spec):
            parts.append("%" + spec)
        else:
            return None
        args.append(v.value)
    fmt = ast.Constant("".join(parts))
    if len(args) == 1 and not isinstance(args[0], ast.Tuple):
        return ast.BinOp(fmt, ast.Mod(), args[0])
    return ast.BinOp(fmt, ast.Mod(), ast.Tuple(args, ast.Load()))


def uses_old_formatting(tree: ast.AST) -> bool:
    for n in ast.walk(tree):
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "format"
                and isinstance(n.func.value, ast.Constant) and isinstance(n.func.value.value, str)):
            return True
        if (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod) and isinstance(n.left, ast.Constant)
                and isinstance(n.left.value, str)):
            return True
    return False


class _Unformat(ast.NodeTransformer):
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.changed = 0

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        if not formattable(node):
            return node
        self.changed += 1
        if self.rng.random() < 0.5:
            alt = to_percent(node)
            if alt is not None:
                return alt
        return to_format_call(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        return node  # never rewrite inside another f-string


def build_fstring(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    tree = ast.parse(code)
    if uses_old_formatting(tree):
        return None  # the expected output would keep old formatting the instruction asks to drop
    t = _Unformat(rng)
    t.visit(tree)
    if not t.changed:
        return None
    source = ast.unparse(tree)
    try:
        ast.parse(source)
    except SyntaxError:
        return None
    return EditPair("fstring", rng.choice(_PHRASINGS), source, code)


# --- forward: old formatting into f-strings -------------------------------------------------

def _fstring_from_format(fmt: str, args: list[ast.expr], keywords: list[ast.keyword]) -> ast.JoinedStr | None:
    """f-string equal to ``fmt.format(*args, **keywords)`` for plain fields, else None."""
    kw = {k.arg: k.value for k in keywords}
    if None in kw or any(isinstance(a, ast.Starred) for a in args):
        return None
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return None
    values: list[ast.expr] = []
    auto = 0
    used: set = set()
    for literal, name, spec, conv in fields:
        if literal:
            values.append(ast.Constant(literal))
        if name is None:
            continue
        if "{" in (spec or "") or (conv and conv not in "rsa"):
            return None
        if name == "":
            if auto >= len(args):
                return None
            expr, key = args[auto], auto
            auto += 1
        elif name.isdigit() and int(name) < len(args):
            expr, key = args[int(name)], int(name)
        elif name in kw:
            expr, key = kw[name], name
        else:
            return None
        used.add(key)
        fspec = ast.JoinedStr([ast.Constant(spec)]) if spec else None
        values.append(ast.FormattedValue(expr, ord(conv) if conv else -1, fspec))
    if used != set(range(len(args))) | set(kw):
        return None  # an unused argument would be evaluated by the call but not by the f-string
    return _joined(values) if any(isinstance(v, ast.FormattedValue) for v in values) else None


def _fstring_from_percent(fmt: str, right: ast.expr) -> ast.JoinedStr | None:
    args = right.elts if isinstance(right, ast.Tuple) else [right]
    values: list[ast.expr] = []
    pos = 0
    k = 0
    for m in CONVERSION.finditer(fmt):
        literal = fmt[pos:m.start()]
        pos = m.end()
        if m["percent"]:
            values.append(ast.Constant(literal + "%"))
            continue
        if "%" in literal:
            return None  # a conversion this rule does not know
        if literal:
            values.append(ast.Constant(literal))
        if k >= len(args) or isinstance(args[k], ast.Starred):
            return None
        spec, conv = m["spec"], m["type"]
        if conv in "sra":
            if spec:
                return None
            values.append(ast.FormattedValue(args[k], -1 if conv == "s" else ord(conv), None))
        else:
            values.append(ast.FormattedValue(args[k], -1, ast.JoinedStr([ast.Constant(spec + conv)])))
        k += 1
    tail = fmt[pos:]
    if "%" in tail or k != len(args) or k == 0:
        return None
    if tail:
        values.append(ast.Constant(tail))
    return _joined(values)


def spellable(js: ast.JoinedStr) -> bool:
    """The f-string can be written on its lines in Python 3.11: no string inside a field needs a
    backslash (``"\\n".join(...)``), which an f-string's expressions cannot hold before 3.12."""
    for v in js.values:
        if isinstance(v, ast.FormattedValue):
            for n in ast.walk(v.value):
                if isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes)):
                    text = n.value.decode("latin-1") if isinstance(n.value, bytes) else n.value
                    if "\\" in text or not text.isprintable():
                        return False
    return True


def _joined(values: list[ast.expr]) -> ast.JoinedStr:
    """The f-string of `values`, adjacent literals one constant, as the parser makes them."""
    merged: list[ast.expr] = []
    for v in values:
        if merged and isinstance(v, ast.Constant) and isinstance(merged[-1], ast.Constant):
            merged[-1] = ast.Constant(merged[-1].value + v.value)
        else:
            merged.append(v)
    return ast.JoinedStr(merged)


class Modernise(ast.NodeTransformer):
    """Rewrite ``'...'.format(...)`` and ``'...' % args`` into f-strings; count what it could not."""

    def __init__(self):
        self.changed = 0
        self.refused = 0

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr == "format" and isinstance(f.value, ast.Constant)
                and isinstance(f.value.value, str)):
            return self._counted(node, _fstring_from_format(f.value.value, node.args, node.keywords))
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            return self._counted(node, _fstring_from_percent(node.left.value, node.right))
        return node

    def _counted(self, node: ast.AST, js: ast.JoinedStr | None) -> ast.AST:
        """The f-string for `node`, counted as a change; `node` itself, counted as refused, if none."""
        if js is None or not spellable(js):
            self.refused += 1
            return node
        self.changed += 1
        return js


def build_fstring_forward(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    """Real ``str.format``/``%`` code of the stdlib converted forward."""
    tree = ast.parse(code)
    t = Modernise()
    t.visit(tree)
    if not t.changed or t.refused:
        return None
    try:
        target = ast.unparse(tree)
        ast.parse(target)
    except (SyntaxError, ValueError):
        return None
    return EditPair("fstring", rng.choice(_PHRASINGS), code, target)


def nothing(instruction: str, code: str) -> str | None:
    return None if touches(instruction, code) else "the code has no `%` or `.format()` string formatting that an f-string can spell"


KIND = Kind(
    "fstring", "convert to f-strings", _PHRASINGS, build_fstring, touches, nothing=nothing,
    pattern=r"(?:convert|change|rewrite)(?: this| the code| string formatting)? (?:to|into|with) "
            r"(?:use )?f-?strings?\.?|use f-?strings?\.?",
    example="convert to f-strings")
EXTRA_BUILDERS = (build_fstring_forward,)  # training also converts real old formatting forward
