"""Edit pairs on functions as written: comments, quotes, decorators, blank lines, continuation
lines, docstrings and non-ASCII text kept, framed exactly as the engine frames a selection.

A target is a function's whole lines, decorators included (what the app selects). The engine's
``frame_for`` (engine/decode/reframe.py) dedents it and puts placeholders for non-ASCII text: that is the
model's source. Each builder edits this text at ``ast`` positions (a list of replacements, no
``ast.unparse`` of the function) and keeps the pair only when the result is AST-equal to the same
edit made on the tree by the pair builders of engine/skills/, so the expected output is the source with only
the edit applied, in the source's own formatting. A target too long for the context is cut by the
engine's ``plan`` (engine/decode/windows.py) and each window becomes a pair with the replacements inside it.
"""

from __future__ import annotations

import ast
import random
import re

from ..decode.reframe import frame_for
from ..skills import instruction_for
from ..skills.docstring import docstring_summary
from ..skills.docstring import header_last_line
from ..skills.fstring_text import in_place, reverse_in_place, same_quotes
from ..skills.fstrings import Modernise, formattable, to_format_call, to_percent, uses_old_formatting
from ..skills.kind import function_of, has_docstring
from ..skills.prints import bodies, debug_print, is_print_statement, remove_prints
from ..skills.rename import pick_function_name, pick_variable, rename_in

Edit = tuple[int, int, str]  # (start, end, replacement): character offsets in the source
_DEF = re.compile(r"(?:async\s+)?def\s+")


def line_offsets(code: str) -> list[int]:
    """Offset of each line's start (index lineno - 1) and, last, len(code)."""
    offs = [0]
    for ln in code.splitlines(keepends=True):
        offs.append(offs[-1] + len(ln))
    if not code.endswith("\n"):
        offs.append(len(code))
    return offs


def apply(code: str, edits: list[Edit]) -> str:
    out, at = [], 0
    for s, e, new in sorted(edits, key=lambda x: (x[0], x[1])):
        if s < at:
            raise ValueError("overlapping edits")
        out += [code[at:s], new]
        at = e
    return "".join(out) + code[at:]


def _same(text: str, tree: ast.AST) -> bool:
    try:
        return ast.dump(ast.parse(text)) == ast.dump(tree)
    except SyntaxError:
        return False


class _Pos:
    def __init__(self, code: str):
        self.code = code
        self.offs = line_offsets(code)

    def __call__(self, line: int, col: int) -> int:
        return self.offs[line - 1] + col

    def start(self, node: ast.AST) -> int:
        return self(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> int:
        return self(node.end_lineno, node.end_col_offset)

    def owns_line(self, node: ast.stmt) -> bool:
        """The statement (its first decorator) starts its line: only whitespace before it."""
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        ls = self.offs[first - 1]
        if first < node.lineno:
            return self.code[ls:].lstrip(" \t").startswith("@")
        return self.code[ls:self.start(node)].strip() == ""

    def line_span(self, node: ast.stmt) -> tuple[int, int] | None:
        """(start, end) of the whole lines of `node`, or None when it shares a line."""
        s, e = self.start(node), self.end(node)
        ls = self.offs[node.lineno - 1]
        le = self.offs[node.end_lineno] if node.end_lineno < len(self.offs) else len(self.code)
        if self.code[ls:s].strip() or self.code[e:le].strip():
            return None
        return ls, le


# --- builders: (instruction, source, edits on source) or None ------------------------------

def rename_variable(code: str, rng: random.Random, pool: list[str]):
    tree = ast.parse(code)
    picked = pick_variable(tree, rng, pool)
    if picked is None:
        return None
    old, new = picked
    p, edits = _Pos(code), []
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id == old:
            edits.append((p.start(n), p.end(n), new))
        elif isinstance(n, ast.arg) and n.arg == old:
            edits.append((p.start(n), p.start(n) + len(old), new))
    rename_in(tree, old, new, function=False)
    return instruction_for("rename_variable", rng, old=old, new=new), code, edits, tree


def rename_function(code: str, rng: random.Random, pool: list[str]):
    tree = ast.parse(code)
    picked = pick_function_name(tree, rng, pool)
    if picked is None:
        return None
    old, new = picked
    p, edits = _Pos(code), []
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id == old:
            edits.append((p.start(n), p.end(n), new))
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == old:
            m = _DEF.match(code, p.start(n))
            if m is None:
                return None
            edits.append((m.end(), m.end() + len(old), new))
        elif (isinstance(n, ast.Attribute) and n.attr == old and isinstance(n.value, ast.Name)
              and n.value.id in ("self", "cls")):
            edits.append((p.end(n) - len(old), p.end(n), new))
    rename_in(tree, old, new, function=True)
    return instruction_for("rename_function", rng, old=old, new=new), code, edits, tree


def add_docstring(code: str, rng: random.Random, pool: list[str]):
    fn = function_of(ast.parse(code))
    source = code
    if has_docstring(fn):
        if len(fn.body) == 1:
            return None
        span = _Pos(code).line_span(fn.body[0])
        if span is None:
            return None
        source = code[:span[0]] + code[span[1]:]  # the stdlib's own docstring goes
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    fn = function_of(tree)
    summary = docstring_summary(fn)
    row = header_last_line(source, fn)
    b0 = fn.body[0]
    if row is None or row >= b0.lineno or '"' in summary or "\\" in summary:
        return None
    p = _Pos(source)
    indent = source[p.offs[b0.lineno - 1]:p.start(b0)]
    if indent.strip() or not indent:
        return None
    at = p.offs[row]
    fn.body.insert(0, ast.Expr(ast.Constant(summary)))
    return instruction_for("add_docstring", rng), source, [(at, at, f'{indent}"""{summary}"""\n')], tree


def _print_edits(source: str, tree: ast.AST) -> list[Edit] | None:
    """Remove every print statement's lines; a block left empty keeps ``pass`` in the last one."""
    p, edits = _Pos(source), []
    for body in bodies(tree):
        prints = [s for s in body if is_print_statement(s)]
        for k, s in enumerate(prints):
            span = p.line_span(s)
            if span is None:
                return None
            if k == len(prints) - 1 and len(prints) == len(body):
                indent = source[span[0]:p.start(s)]
                nl = "\n" if source[span[1] - 1:span[1]] == "\n" else ""
                edits.append((span[0], span[1], f"{indent}pass{nl}"))
            else:
                edits.append((span[0], span[1], ""))
    return edits


def remove_prints_pair(code: str, rng: random.Random, pool: list[str]):
    tree = ast.parse(code)
    fn = function_of(tree)
    p = _Pos(code)
    has_prints = any(is_print_statement(s) for b in bodies(tree) for s in b)
    names = [a.arg for a in fn.args.args if a.arg not in ("self", "cls")]
    open_bodies = [b for b in bodies(fn) if p.owns_line(b[0]) and b[0].lineno > fn.lineno]
    inserts: list[Edit] = []
    for _ in range(rng.choice([1, 1, 2, 2, 3]) if not has_prints or rng.random() < 0.5 else 0):
        if not open_bodies:
            return None
        body = rng.choice(open_bodies)
        at = rng.randint(0, len(body))
        if body is fn.body and at == 0 and has_docstring(fn):
            at = 1
        indent = " " * body[0].col_offset
        text = ast.unparse(debug_print(rng, fn.name, names))
        if at < len(body):
            s = body[at]
            if not p.owns_line(s):
                continue
            first = min([s.lineno] + [d.lineno for d in getattr(s, "decorator_list", [])])
            inserts.append((p.offs[first - 1], p.offs[first - 1], f"{indent}{text}\n"))
        else:
            end = body[-1].end_lineno
            if end < len(p.offs) - 1 and code[p.offs[end] - 1] == "\n":
                inserts.append((p.offs[end], p.offs[end], f"{indent}{text}\n"))
            else:
                inserts.append((len(code), len(code), f"\n{indent}{text}"))
    source = apply(code, inserts)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    edits = _print_edits(source, tree)
    if not edits:
        return None
    remove_prints(tree)
    return instruction_for("remove_prints", rng), source, edits, tree


class _Outer(ast.NodeVisitor):
    """f-strings that are not inside another f-string."""

    def __init__(self):
        self.found: list[ast.JoinedStr] = []

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self.found.append(node)


def fstring_reverse(code: str, rng: random.Random, pool: list[str]):
    """The stdlib's own f-strings rewritten to ``.format``/``%`` make the source; the code as
    written is the expected output."""
    tree = ast.parse(code)
    if uses_old_formatting(tree):
        return None
    v = _Outer()
    v.visit(tree)
    p, edits, alts = _Pos(code), [], {}
    for node in v.found:
        if not formattable(node):
            continue
        percent = rng.random() < 0.5
        written = reverse_in_place(code, node, percent) or (percent and reverse_in_place(code, node, False))
        if written:  # each piece on its own line, in its own quotes, the arguments after the last
            alt = ast.parse("(" + written[0] + "\n)", mode="eval").body
            text = written[0]
        else:
            alt = (to_percent(node) if percent else None) or to_format_call(node)
            text = ast.unparse(alt)
        alts[id(node)] = alt
        edits.append((p.start(node), p.end(node), text))
    if not edits:
        return None
    source = apply(code, edits)

    class _Swap(ast.NodeTransformer):
        def visit_JoinedStr(self, node):
            return alts.get(id(node), node)

    if not _same(source, _Swap().visit(tree)):  # the text edits are the tree edits
        return None
    return instruction_for("fstring", rng), source, None, ast.parse(code)


class _Record(Modernise):
    def __init__(self):
        super().__init__()
        self.spans: list[tuple[ast.AST, ast.AST]] = []

    def visit_Call(self, node):
        res = super().visit_Call(node)
        if res is not node:
            self.spans.append((node, res))
        return res

    def visit_BinOp(self, node):
        res = super().visit_BinOp(node)
        if res is not node:
            self.spans.append((node, res))
        return res


def fstring_forward(code: str, rng: random.Random, pool: list[str]):
    tree = ast.parse(code)
    r = _Record()
    tree = r.visit(tree)
    if not r.changed or r.refused:
        return None
    p = _Pos(code)
    spans = sorted(((p.start(o), p.end(o), o, n) for o, n in r.spans), key=lambda x: (x[0], -x[1]))
    edits, reach = [], -1
    for s, e, o, n in spans:
        if s >= reach:  # outermost only: an outer rewrite already holds the inner ones
            edits.append((s, e, in_place(code, o, n) or same_quotes(code[s:e], ast.unparse(n))))
            reach = e
    return instruction_for("fstring", rng), code, edits, tree


def out_of_scope(code: str, rng: random.Random, pool: list[str]):
    return instruction_for("out_of_scope", rng), code, [], ast.parse(code)


BUILDERS = {
    "rename_variable": [rename_variable],
    "rename_function": [rename_function],
    "add_docstring": [add_docstring],
    "remove_prints": [remove_prints_pair],
    "fstring": [fstring_reverse, fstring_forward],
    "out_of_scope": [out_of_scope],
}


def build(kind: str, code: str, rng: random.Random, pool: list[str]) -> list[tuple[str, str, str]]:
    """(instruction, source, expected output) triples of `kind` for one framed function (one per
    builder that suits it); the output is checked AST-equal to the tree-level edit."""
    out = []
    for builder in BUILDERS[kind]:
        try:
            made = builder(code, rng, pool)
        except (SyntaxError, ValueError, RecursionError):
            continue
        if made is None:
            continue
        instruction, source, edits, expected = made
        if edits is None:  # built in reverse: the expected output is the code as written
            target = code
        else:
            try:
                target = apply(source, edits)
            except ValueError:
                continue
        if not _same(target, expected) or (kind != "out_of_scope" and target == source):
            continue
        out.append((instruction, source, target, edits))
    return out
