"""Edit pairs built with ``ast``: (instruction, source, expected output) for each skill.

Each builder takes one unparsed function and a seeded ``random.Random`` and returns an
``EditPair`` or None when the function does not suit the kind. Kinds that are rare in the wild are
built in reverse: f-strings of the stdlib are rewritten into ``str.format``/``%`` to make the
source side, and prints are injected into functions to make something to remove.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import random
import re
import string
from dataclasses import dataclass

from .phrasing import docstring_summary, instruction_for

KINDS = ("rename_variable", "rename_function", "add_docstring", "remove_prints", "fstring", "out_of_scope")


@dataclass
class EditPair:
    kind: str  # one of KINDS
    instruction: str  # what the user typed
    source: str  # code before the edit
    target: str  # code after the edit (== source for out_of_scope)


def _func(tree: ast.Module) -> ast.FunctionDef | ast.AsyncFunctionDef:
    node = tree.body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise ValueError("expected a function definition")
    return node


def identifiers(tree: ast.AST) -> set[str]:
    """Every identifier spelled in the code (names, args, attributes, keywords, defs)."""
    out: set[str] = set()
    for n in ast.walk(tree):
        for attr in ("id", "arg", "attr", "name"):
            v = getattr(n, attr, None)
            if isinstance(v, str):
                out.add(v)
    return out


def fresh_name(rng: random.Random, old: str, taken: set[str], pool: list[str]) -> str:
    """A plausible new identifier that collides with nothing in the function."""
    for _ in range(20):
        r = rng.random()
        if r < 0.5:
            new = rng.choice(pool)
        elif r < 0.7:
            new = f"{old.strip('_')}_{rng.choice(pool)}"
        elif r < 0.85:
            new = f"{rng.choice(pool)}_{rng.choice(pool)}"
        else:
            new = f"{rng.choice(pool)}_{old.strip('_')}"
        new = new.strip("_") or "value"
        ok = new.isidentifier() and not keyword.iskeyword(new) and new not in taken
        if ok and len(new) <= 30 and not hasattr(builtins, new):
            return new
    return f"{old.strip('_') or 'v'}_new"


# --- rename ---------------------------------------------------------------------------------

def _local_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Parameters and assigned names of the function, minus globals/nonlocals and self/cls."""
    declared: set[str] = set()
    names: list[str] = []
    a = fn.args
    for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
        if arg is not None:
            names.append(arg.arg)
    for n in ast.walk(fn):
        if isinstance(n, (ast.Global, ast.Nonlocal)):
            declared.update(n.names)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.append(n.id)
    seen: set[str] = set()
    out = []
    for n in names:
        if n not in seen and n not in declared and n not in ("self", "cls"):
            seen.add(n)
            out.append(n)
    return out


def rename_in(tree: ast.Module, old: str, new: str, *, function: bool) -> None:
    """Rename every variable use of `old` (Name and parameter nodes); for a function rename also
    its definition and calls through ``self.``/``cls.`` (recursive method calls)."""
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id == old:
            n.id = new
        elif isinstance(n, ast.arg) and n.arg == old and not function:
            n.arg = new
        elif function and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == old:
            n.name = new
        elif (function and isinstance(n, ast.Attribute) and n.attr == old
              and isinstance(n.value, ast.Name) and n.value.id in ("self", "cls")):
            n.attr = new


def build_rename_variable(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    tree = ast.parse(code)
    fn = _func(tree)
    candidates = [n for n in _local_names(fn) if n != fn.name]
    if not candidates:
        return None
    old = rng.choice(candidates)
    new = fresh_name(rng, old, identifiers(tree), pool)
    rename_in(tree, old, new, function=False)
    target = ast.unparse(tree)
    if target == code:
        return None
    return EditPair("rename_variable", instruction_for("rename_variable", rng, old=old, new=new), code, target)


def build_rename_function(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    tree = ast.parse(code)
    fn = _func(tree)
    old = fn.name
    if old.startswith("__") and old.endswith("__"):
        return None  # renaming a dunder changes the protocol; not an everyday edit
    new = fresh_name(rng, old, identifiers(tree), pool)
    rename_in(tree, old, new, function=True)
    return EditPair("rename_function", instruction_for("rename_function", rng, old=old, new=new),
                    code, ast.unparse(tree))


# --- docstring ------------------------------------------------------------------------------

def _has_docstring(fn: ast.AST) -> bool:
    return ast.get_docstring(fn, clean=False) is not None


def build_add_docstring(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    tree = ast.parse(code)
    fn = _func(tree)
    if _has_docstring(fn):
        if len(fn.body) == 1:
            return None
        fn.body = fn.body[1:]  # the stdlib's own docstring goes; ours is the expected edit
    source = ast.unparse(tree)
    fn.body.insert(0, ast.Expr(ast.Constant(docstring_summary(fn))))
    return EditPair("add_docstring", instruction_for("add_docstring", rng), source, ast.unparse(tree))


# --- remove prints --------------------------------------------------------------------------

def is_print_statement(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == "print")


def _bodies(tree: ast.AST) -> list[list[ast.stmt]]:
    out = []
    for n in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(n, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                out.append(body)
        if isinstance(n, ast.Try):
            out.extend(h.body for h in n.handlers)
    return out


def remove_prints(tree: ast.AST) -> None:
    """Drop every ``print(...)`` statement; a body left empty gets ``pass``."""
    for body in _bodies(tree):
        kept = [s for s in body if not is_print_statement(s)]
        if len(kept) != len(body):
            body[:] = kept or [ast.Pass()]


def _debug_print(rng: random.Random, fn_name: str, names: list[str]) -> ast.stmt:
    name = rng.choice(names) if names else None
    r = rng.random()
    if name is None or r < 0.12:
        text = rng.choice([f"entering {fn_name}", "here", "DEBUG", f"{fn_name} called", "done", "got here"])
        src = f"print({text!r})"
    elif r < 0.3:
        src = f"print({name})"
    elif r < 0.5:
        src = f"print({name + ':'!r}, {name})"
    elif r < 0.65:
        src = f"print(f'{name}={{{name}!r}}')"
    elif r < 0.75:
        src = f"print('DEBUG', {name}, file=sys.stderr)"
    elif r < 0.85 and len(names) > 1:
        other = rng.choice(names)
        src = f"print({name}, {other})"
    else:
        src = f"print(f'{fn_name}: {{{name}}}')"
    return ast.parse(src).body[0]


def build_remove_prints(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    tree = ast.parse(code)
    fn = _func(tree)
    has_prints = any(is_print_statement(s) for b in _bodies(tree) for s in b)
    names = [a.arg for a in fn.args.args if a.arg not in ("self", "cls")]
    bodies = _bodies(fn)
    for _ in range(rng.choice([1, 1, 2, 2, 3]) if not has_prints or rng.random() < 0.5 else 0):
        body = rng.choice(bodies)
        at = rng.randint(0, len(body))
        if body is fn.body and at == 0 and _has_docstring(fn):
            at = 1
        body.insert(at, _debug_print(rng, fn.name, names))
    source = ast.unparse(tree)
    remove_prints(tree)
    target = ast.unparse(tree)
    if source == target:
        return None
    return EditPair("remove_prints", instruction_for("remove_prints", rng), source, target)


# --- f-strings (built in reverse) -----------------------------------------------------------

_PERCENT_SPEC = re.compile(r"0?\d*(\.\d+)?[dfegxXo]?")


def _formattable(js: ast.JoinedStr) -> bool:
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
        elif v.conversion == -1 and _PERCENT_SPEC.fullmatch(spec) and spec[-1:] in tuple("dfegxXo"):
            parts.append("%" + spec)
        else:
            return None
        args.append(v.value)
    fmt = ast.Constant("".join(parts))
    if len(args) == 1 and not isinstance(args[0], ast.Tuple):
        return ast.BinOp(fmt, ast.Mod(), args[0])
    return ast.BinOp(fmt, ast.Mod(), ast.Tuple(args, ast.Load()))


def _uses_old_formatting(tree: ast.AST) -> bool:
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
        if not _formattable(node):
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
    if _uses_old_formatting(tree):
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
    return EditPair("fstring", instruction_for("fstring", rng), source, code)


_PERCENT_FIELD = re.compile(r"%(?:(%)|(0?\d*(?:\.\d+)?)([dfegxXosra]))")


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
    return ast.JoinedStr(values) if any(isinstance(v, ast.FormattedValue) for v in values) else None


def _fstring_from_percent(fmt: str, right: ast.expr) -> ast.JoinedStr | None:
    args = right.elts if isinstance(right, ast.Tuple) else [right]
    values: list[ast.expr] = []
    pos = 0
    k = 0
    for m in _PERCENT_FIELD.finditer(fmt):
        literal = fmt[pos:m.start()]
        pos = m.end()
        if m.group(1):
            values.append(ast.Constant(literal + "%"))
            continue
        if "%" in literal:
            return None  # a conversion this rule does not know
        if literal:
            values.append(ast.Constant(literal))
        spec, conv = m.group(2), m.group(3)
        if k >= len(args) or isinstance(args[k], ast.Starred):
            return None
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
    merged: list[ast.expr] = []
    for v in values:  # adjacent literals form one constant, as the parser would make them
        if merged and isinstance(v, ast.Constant) and isinstance(merged[-1], ast.Constant):
            merged[-1] = ast.Constant(merged[-1].value + v.value)
        else:
            merged.append(v)
    return ast.JoinedStr(merged)


class _Modernise(ast.NodeTransformer):
    """Rewrite ``'...'.format(...)`` and ``'...' % args`` into f-strings; count what it could not."""

    def __init__(self):
        self.changed = 0
        self.refused = 0

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr == "format" and isinstance(f.value, ast.Constant)
                and isinstance(f.value.value, str)):
            js = _fstring_from_format(f.value.value, node.args, node.keywords)
            if js is None:
                self.refused += 1
                return node
            self.changed += 1
            return js
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            js = _fstring_from_percent(node.left.value, node.right)
            if js is None:
                self.refused += 1
                return node
            self.changed += 1
            return js
        return node


def build_fstring_forward(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    """Real ``str.format``/``%`` code of the stdlib converted forward."""
    tree = ast.parse(code)
    t = _Modernise()
    t.visit(tree)
    if not t.changed or t.refused:
        return None
    try:
        target = ast.unparse(tree)
        ast.parse(target)
    except (SyntaxError, ValueError):
        return None
    return EditPair("fstring", instruction_for("fstring", rng), code, target)


def build_out_of_scope(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    return EditPair("out_of_scope", instruction_for("out_of_scope", rng), code, code)


BUILDERS = {
    "rename_variable": build_rename_variable,
    "rename_function": build_rename_function,
    "add_docstring": build_add_docstring,
    "remove_prints": build_remove_prints,
    "fstring": build_fstring,
    "out_of_scope": build_out_of_scope,
}
