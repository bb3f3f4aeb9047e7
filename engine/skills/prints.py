"""Remove print statements: phrasings, the draft rewrite, the training pairs.

Draft: lines that start with ``print(`` dropped (continuation lines too); a block left empty gets
``pass``. Pairs: prints are rare in library code, so debug prints are injected into a function
to make the source, and every ``print(...)`` statement is removed with ``ast`` for the target.
"""

from __future__ import annotations

import ast
import random

from .kind import EditPair, Kind, function_of, has_docstring, parsed
from .tokens import CLOSE, OPEN, Vocabulary, indent_of, triggered

TRIGGER = ("remove_prints", (("remove", "Remove", "delete", "Delete", "strip", "Strip", "drop", "Drop"),
                             ("print", "prints")))
PRINT_HEAD = "print("  # its first two tokens open a print line (tessera.json "print_head")

_PHRASINGS = ("remove print statements", "remove debug prints", "Remove print statements",
              "remove all print statements", "remove prints", "delete the print calls", "Remove debug prints",
              "strip debug prints")


# --- draft ----------------------------------------------------------------------------------

def draft(vocab: Vocabulary, pred: list[int], origin: list[int], instruction: list[int], n_source: int):
    """Drop lines that start with ``print(``; a block left empty gets ``pass`` instead."""
    if not triggered(vocab, TRIGGER[0], instruction):
        return pred, origin
    head, nl = vocab.print_head, vocab.newlines
    out, org, i = [], [], 0
    while i < len(pred):
        if pred[i] in nl and tuple(pred[i + 1:i + 1 + len(head)]) == head:
            j, depth = i + 1, 0
            while j < len(pred) and (pred[j] not in nl or depth > 0):  # continuation lines too
                c = vocab.punct.get(pred[j], "")
                depth += (c in OPEN) - (c in CLOSE)
                j += 1
            opens_block = bool(out) and vocab.punct.get(out[-1]) == ":"
            block_ends = j >= len(pred) or indent_of(vocab, pred[j]) < indent_of(vocab, pred[i])
            if opens_block and block_ends and "pass" in vocab.bare:
                out += [pred[i], vocab.bare["pass"]]
                org += [origin[i], origin[i]]
            i = j  # drop the line: its leading newline and the statement
            continue
        out.append(pred[i])
        org.append(origin[i])
        i += 1
    return out, org


def touches(instruction: str, code: str) -> bool:
    """A print statement in the code; "print" in a string or a comment does not count where it parses."""
    if "print" not in code:
        return False
    tree = parsed(code)
    return tree is None or any(is_print_statement(s) for s in ast.walk(tree) if isinstance(s, ast.stmt))


# --- training pairs -------------------------------------------------------------------------

def is_print_statement(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == "print")


def bodies(tree: ast.AST) -> list[list[ast.stmt]]:
    """Every statement list of the tree (bodies, else and finally blocks, except handlers)."""
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
    for body in bodies(tree):
        kept = [s for s in body if not is_print_statement(s)]
        if len(kept) != len(body):
            body[:] = kept or [ast.Pass()]


def debug_print(rng: random.Random, fn_name: str, names: list[str]) -> ast.stmt:
    """A print statement as people leave them while debugging."""
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
    fn = function_of(tree)
    has_prints = any(is_print_statement(s) for b in bodies(tree) for s in b)
    names = [a.arg for a in fn.args.args if a.arg not in ("self", "cls")]
    fn_bodies = bodies(fn)
    for _ in range(rng.choice([1, 1, 2, 2, 3]) if not has_prints or rng.random() < 0.5 else 0):
        body = rng.choice(fn_bodies)
        at = rng.randint(0, len(body))
        if body is fn.body and at == 0 and has_docstring(fn):
            at = 1
        body.insert(at, debug_print(rng, fn.name, names))
    source = ast.unparse(tree)
    remove_prints(tree)
    target = ast.unparse(tree)
    if source == target:
        return None
    return EditPair("remove_prints", rng.choice(_PHRASINGS), source, target)


def nothing(instruction: str, code: str) -> str | None:
    return None if touches(instruction, code) else "the code has no print statement"


KIND = Kind(
    "remove_prints", "remove print statements", _PHRASINGS, build_remove_prints, touches, nothing=nothing,
    pattern=r"(?:remove|delete|drop|strip) (?:all )?(?:the )?(?:debug )?print(?:s| statements| calls)?\.?",
    example="remove print statements")


# --- the draft written in the source's own text ---------------------------------------------------

def draft_text(code: str) -> str | None:
    """`code` with ``remove_prints`` made in its own text: each print statement's lines dropped, a
    block left empty given ``pass`` at its indentation. None where the code does not parse, has no
    print, or a print shares a line with other code (``x = 1; print(x)``)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    lines = code.split("\n")
    drop: dict[int, str | None] = {}  # first line (0-based) → replacement line or None, per print
    spans: list[tuple[int, int]] = []
    for body in bodies(tree):
        prints = [s for s in body if is_print_statement(s)]
        if not prints:
            continue
        for s in prints:
            a, b = s.lineno - 1, s.end_lineno - 1
            rest = lines[b].encode("utf-8")[s.end_col_offset:].decode("utf-8", "replace").strip()
            if lines[a].encode("utf-8")[:s.col_offset].strip() or (rest and not rest.startswith("#")):
                return None  # shares its line with other code (a comment after it goes with it)
            spans.append((a, b))
            drop[a] = None
        if len(prints) == len(body):
            first = prints[0]
            drop[first.lineno - 1] = lines[first.lineno - 1][:first.col_offset] + "pass"
    if not spans:
        return None
    out, skip = [], set()
    for a, b in spans:
        skip.update(range(a + 1, b + 1))
    for i, line in enumerate(lines):
        if i in skip:
            continue
        if i in drop:
            if drop[i] is not None:
                out.append(drop[i])
            continue
        out.append(line)
    return "\n".join(out)
