"""Rename a variable or a function: phrasings, the draft rewrite, the training pairs.

Draft: the new name at every whole-identifier occurrence of the old one outside plain strings
and comments, not after a ``.`` (except ``self.``/``cls.`` calls of a renamed method) and not as
a keyword argument of a call. Pairs: ``ast`` renames of a local or parameter, or of the function
with its recursive calls.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import random
import re

from .kind import NAME, EditPair, Kind, ast_offsets, function_of
from .tokens import Vocabulary, find, triggered

TRIGGER = ("rename", (("rename", "Rename"),))  # draft trigger: words of the instruction (tessera.json)

_VARIABLE_PHRASINGS = ("rename variable {old} to {new}", "rename {old} to {new}",
                       "rename the variable {old} to {new}", "Rename variable {old} to {new}",
                       "Rename {old} to {new}", "rename parameter {old} to {new}")
_FUNCTION_PHRASINGS = ("rename function {old} to {new}", "rename the function {old} to {new}",
                       "Rename function {old} to {new}", "rename method {old} to {new}", "rename {old} to {new}")
_NAMES = re.compile(r"`?([A-Za-z_]\w*)`?\s+to\s+`?([A-Za-z_]\w*)`?\.?\s*$")


def names_in(instruction: str) -> tuple[str, str] | None:
    """(old, new) of a rename instruction ("rename variable total to acc"), or None."""
    m = _NAMES.search(instruction)
    return (m.group(1), m.group(2)) if m else None


# --- draft ----------------------------------------------------------------------------------

def rename_pair(vocab: Vocabulary, instruction: list[int]) -> tuple[tuple, tuple] | None:
    """(old, new) token runs of 'rename OLD to NEW', or None."""
    if not triggered(vocab, TRIGGER[0], instruction):
        return None
    at = find(instruction, vocab.rename_separator)
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


def draft(vocab: Vocabulary, pred: list[int], origin: list[int], instruction: list[int], n_source: int):
    """The predicted output with the rename the instruction names applied (unchanged without one)."""
    pair = rename_pair(vocab, instruction)
    if pair:
        pred, origin = _rename(vocab, pred, origin, *pair)
    return pred, origin


def touches(instruction: str, code: str) -> bool:
    """Conservative: the old name anywhere in the code counts, even in a string."""
    names = names_in(instruction)
    return names is None or re.search(rf"(?<!\w){re.escape(names[0])}(?!\w)", code) is not None


# --- training pairs -------------------------------------------------------------------------

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


def local_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
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


def defines(tree: ast.AST, name: str) -> bool:
    """The code defines a function `name`: "rename NAME to NEW" then renames that function."""
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name for n in ast.walk(tree))


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


def pick_variable(tree: ast.AST, rng: random.Random, pool: list[str]) -> tuple[str, str] | None:
    """(old, new) for a variable rename of the function in ``tree``, or None when it has no local."""
    fn = function_of(tree)
    candidates = [n for n in local_names(fn) if n != fn.name]
    if not candidates:
        return None
    old = rng.choice(candidates)
    return old, fresh_name(rng, old, identifiers(tree), pool)


def pick_function_name(tree: ast.AST, rng: random.Random, pool: list[str]) -> tuple[str, str] | None:
    """(old, new) for renaming the function in ``tree``; None for a dunder (renaming one changes the
    protocol; not an everyday edit)."""
    old = function_of(tree).name
    if old.startswith("__") and old.endswith("__"):
        return None
    return old, fresh_name(rng, old, identifiers(tree), pool)


def build_rename_variable(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    tree = ast.parse(code)
    picked = pick_variable(tree, rng, pool)
    if picked is None:
        return None
    old, new = picked
    rename_in(tree, old, new, function=False)
    target = ast.unparse(tree)
    if target == code:
        return None
    return EditPair("rename_variable", rng.choice(_VARIABLE_PHRASINGS).format(old=old, new=new), code, target)


def build_rename_function(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    tree = ast.parse(code)
    picked = pick_function_name(tree, rng, pool)
    if picked is None:
        return None
    old, new = picked
    rename_in(tree, old, new, function=True)
    return EditPair("rename_function", rng.choice(_FUNCTION_PHRASINGS).format(old=old, new=new),
                    code, ast.unparse(tree))


def nothing(instruction: str, code: str) -> str | None:
    names = names_in(instruction)
    return None if touches(instruction, code) or names is None else f"`{names[0]}` does not occur in the code"


VARIABLE = Kind(
    "rename_variable", "rename variable / rename OLD to NEW", _VARIABLE_PHRASINGS, build_rename_variable, touches,
    nothing=nothing,
    pattern=rf"rename (?:the )?(?:(?:variable|parameter|local|argument) )?`?{NAME}`? to `?{NAME}`?",
    example="rename variable x to total")
FUNCTION = Kind(
    "rename_function", "rename function", _FUNCTION_PHRASINGS, build_rename_function, touches, nothing=nothing,
    pattern=rf"rename (?:the )?(?:function|method) `?{NAME}`? to `?{NAME}`?",
    example="rename function parse to parse_header")


# --- the draft written in the source's own text ---------------------------------------------------

def draft_text(code: str, instruction: str, *, function: bool) -> str | None:
    """`code` with the rename of ``rename_in`` made in its own text: each name node spelled anew
    where it stands, strings, comments, attributes of other objects and keyword arguments left as
    they are. A rename of a function the code defines is a function rename, however phrased. None where the code does not parse, the instruction names no rename, or nothing is
    renamed."""
    import io
    import tokenize

    names = names_in(instruction)
    if names is None:
        return None
    old, new = names
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        try:  # a definition's header alone: the window before a docstring longer than a window
            tree = ast.parse(code.rstrip() + "\n    pass\n")
        except (SyntaxError, ValueError):
            return None
    function = function or defines(tree, old)
    offset = ast_offsets(code)
    at: set[int] = set()
    defs: set[int] = set()  # lines of the definitions to rename (their names are found by tokenize)
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id == old:
            at.add(offset(n.lineno, n.col_offset))
        elif isinstance(n, ast.arg) and n.arg == old and not function:
            at.add(offset(n.lineno, n.col_offset))
        elif function and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == old:
            defs.add(n.lineno)
        elif (function and isinstance(n, ast.Attribute) and n.attr == old
              and isinstance(n.value, ast.Name) and n.value.id in ("self", "cls")):
            at.add(offset(n.end_lineno, n.end_col_offset) - len(old))
    if defs:
        try:
            toks = list(tokenize.generate_tokens(io.StringIO(code).readline))
        except (tokenize.TokenError, SyntaxError):
            return None
        for a, b in zip(toks, toks[1:]):
            if a.string == "def" and b.string == old and a.start[0] in defs:
                at.add(offset(b.start[0], 0) + b.start[1])  # tokenize counts characters
    if not at:
        return None
    out, pos = [], 0
    for i in sorted(at):
        if code[i:i + len(old)] != old:
            return None
        out += [code[pos:i], new]
        pos = i + len(old)
    out.append(code[pos:])
    return "".join(out)
