"""Add a docstring: phrasings, the one-line summary rule, the draft rewrite, the training pairs.

The summary comes from the function's name and parameters: ``def parse_header(self, line,
strict)`` → "Parse header given line and strict." The draft inserts the same words, token by
token, as a ``\"\"\"...\"\"\"`` line after the ``def`` header; the pair builder inserts them with
``ast`` (the function's own docstring removed first).
"""

from __future__ import annotations

import ast
import random
import re

from .kind import EditPair, Kind, function_of, has_docstring, parsed
from .tokens import CLOSE, OPEN, Vocabulary, header_end, indent_of, respace, triggered

TRIGGER = ("add_docstring", (("add", "Add", "write", "Write", "insert", "Insert"), ("docstring",)))

_PHRASINGS = ("add a docstring", "add docstring", "Add a docstring", "write a docstring",
              "add a one-line docstring", "insert a docstring")

VERBS = {
    "get", "set", "parse", "read", "write", "make", "build", "create", "load", "save", "check", "find",
    "add", "remove", "update", "compute", "convert", "format", "handle", "open", "close", "run", "start",
    "stop", "send", "receive", "reset", "clear", "print", "render", "validate", "register", "process",
    "return", "apply", "call", "copy", "delete", "emit", "encode", "decode", "escape", "extract", "fetch",
    "filter", "flush", "generate", "init", "insert", "join", "list", "lookup", "match", "merge", "normalize",
    "pop", "push", "put", "quote", "raise", "resolve", "search", "select", "split", "strip", "test", "visit",
    "wrap", "append", "compile", "connect", "dump", "ensure", "expand", "fix", "iter", "log", "mark", "pack",
    "unpack", "parse", "prepare", "show", "skip", "sort", "store", "translate", "write", "is", "has", "can",
    "should", "do", "try", "use", "wait", "walk", "collect", "count", "define", "determine", "execute",
}
SPECIAL_VERBS = {"init": "Initialize", "iter": "Iterate over", "is": "Tell whether", "has": "Tell whether it has",
                 "can": "Tell whether it can", "should": "Tell whether it should", "do": "Do"}
DEFAULT_HEAD = "Return"  # the summary's first word when the name does not start with a verb


def verb_heads() -> list[tuple[str, str]]:
    """(first word of a name, the summary's opening), sorted: the "heads" of tessera.json."""
    return [(verb, SPECIAL_VERBS.get(verb, verb.capitalize())) for verb in sorted(VERBS)]


# --- the summary ----------------------------------------------------------------------------

def name_words(name: str) -> list[str]:
    """Words of an identifier: snake_case and camelCase split, lower case."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [w.lower() for w in spaced.split("_") if w]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def docstring_summary(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """'Parse header given line and strict.' from ``def parse_header(self, line, strict)``."""
    words = name_words(fn.name) or ["value"]
    first, rest = words[0], words[1:]
    if first in SPECIAL_VERBS:
        head = [SPECIAL_VERBS[first], *rest]
    elif first in VERBS:
        head = [first.capitalize(), *rest]
    else:
        head = [DEFAULT_HEAD, *words]
    a = fn.args
    params = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
              if p is not None and p.arg not in ("self", "cls")]
    text = " ".join(head)
    if params:
        text += " given " + _join(params)
    return text + "."


# --- draft ----------------------------------------------------------------------------------

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
        if c in OPEN:
            depth += 1
            seg_start = depth == 1
            continue
        if c in CLOSE:
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


def draft(vocab: Vocabulary, pred: list[int], origin: list[int], instruction: list[int], n_source: int):
    """The predicted output with a template docstring line after the ``def`` header, when asked."""
    if not triggered(vocab, TRIGGER[0], instruction):
        return pred, origin
    d = next((i for i, t in enumerate(pred) if t in vocab.def_ids), -1)
    q = header_end(vocab, pred, d) if d >= 0 else -1
    if q > 0:
        insert = _docstring(vocab, pred[d + 1:q])
        if insert:
            # the docstring line takes the body's indentation (the header may be followed by a blank line)
            nl = next((t for t in pred[q:] if t in vocab.newlines and indent_of(vocab, t) > 0), pred[q])
            at = origin[q + 1] if q + 1 < len(origin) else n_source
            pred = pred[:q] + [nl] + insert + pred[q:]
            origin = origin[:q + 1] + [at] * (len(insert) + 1) + origin[q + 1:]
    return pred, origin


def touches(instruction: str, code: str) -> bool:
    """Only the definition's own header gets one."""
    return re.search(r"^\s*(?:async\s+)?def\b", code, re.MULTILINE) is not None


# --- training pairs -------------------------------------------------------------------------

def build_add_docstring(code: str, rng: random.Random, pool: list[str]) -> EditPair | None:
    tree = ast.parse(code)
    fn = function_of(tree)
    if has_docstring(fn):
        if len(fn.body) == 1:
            return None
        fn.body = fn.body[1:]  # the stdlib's own docstring goes; ours is the expected edit
    source = ast.unparse(tree)
    fn.body.insert(0, ast.Expr(ast.Constant(docstring_summary(fn))))
    return EditPair("add_docstring", rng.choice(_PHRASINGS), source, ast.unparse(tree))


def nothing(instruction: str, code: str) -> str | None:
    """A function that has a docstring already."""
    tree = parsed(code)
    node = tree.body[0] if tree is not None and tree.body else None
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and has_docstring(node):
        return f"`{node.name}` has a docstring already"
    return None


KIND = Kind(
    "add_docstring", "add a docstring", _PHRASINGS, build_add_docstring, touches, nothing=nothing,
    pattern=r"(?:add|write|insert) (?:a )?(?:one-line |short )?docstring(?: to this function)?\.?",
    example="add a docstring")


# --- the draft written in the source's own text ---------------------------------------------------

def header_last_line(code: str, fn: ast.AST) -> int | None:
    """The line (1-based) of the colon that ends `fn`'s ``def`` header, found with tokenize."""
    import io
    import tokenize

    depth, seen_def = 0, False
    try:
        for t in tokenize.generate_tokens(io.StringIO(code).readline):
            if t.start[0] < fn.lineno:
                continue
            if t.type == tokenize.NAME and t.string == "def":
                seen_def = True
            elif seen_def and t.type == tokenize.OP:
                if t.string in "([{":
                    depth += 1
                elif t.string in ")]}":
                    depth -= 1
                elif t.string == ":" and depth == 0:
                    return t.start[0]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    return None


def draft_text(code: str) -> str | None:
    """`code` (a function, or its header alone: the window before a long first statement) with
    the summary line inserted after its ``def`` header at the body's indentation: the rule of
    ``build_add_docstring`` written in the source's own text. None where the code does not start
    with a function, already has a docstring, or has its body on the header's line."""
    try:
        tree, alone = ast.parse(code), False
    except (SyntaxError, ValueError):
        try:
            tree, alone = ast.parse(code.rstrip() + "\n    pass\n"), True
        except (SyntaxError, ValueError):
            return None
    if not tree.body or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    fn = tree.body[0]
    if has_docstring(fn):
        return None
    end = header_last_line(code, fn)
    lines = code.split("\n")
    if end is None or (not alone and fn.body[0].lineno <= end):
        return None
    if alone:
        indent = " " * (len(lines[fn.lineno - 1]) - len(lines[fn.lineno - 1].lstrip()) + 4)
    else:
        body = lines[fn.body[0].lineno - 1]
        indent = body[:len(body) - len(body.lstrip())]
    return "\n".join(lines[:end] + [f'{indent}"""{docstring_summary(fn)}"""'] + lines[end:])
