"""Long targets edited in windows that each fit the model's context.

A selection whose prompt and output together outgrow the context is cut at statement starts (of
any depth, found with ``ast``; a decorated definition starts at its first decorator) into
consecutive line ranges of the document that each fit. Every window is an ordinary edit of its
own range (dedented, placeholders, restored: engine/decode/reframe.py) with the same instruction, run
in order on the same request; their outputs, each in document terms, concatenate to the edit of
the whole selection, and they stream as one (engine/backends/edit_stream.py). For "add a docstring" only the first window (the
one holding the ``def``) goes through the model; the others are passed on unchanged.

A window the edit cannot change (a rename's old name, a print, string formatting absent from it;
comments alone) is passed on unchanged without the model; so is a single statement longer than a
window (a long docstring or literal) that the edit does not touch. One that the edit may touch is cut
inside (``fine_cuts``: after a block's header, around comments); only a statement that cannot be cut
small enough (one long line) refuses the selection.

Windows keep the small model on the lengths it was trained on, cost nothing when the target fits,
and keep the live diff live: a longer context would need a retrained model and make every token
attend over the whole target.

Focused windows (``focused_plan``), whatever the target's length, for the skills whose rule
changes a few statements (f-strings, a docstring): only the smallest statements
that hold a change go through the model, each a window of its own; everything between them is
passed on as it is. The edit stays minimal by construction (the model cannot touch a line the
rule leaves alone), it costs output tokens only where the code changes, and a small model is
more often right on one statement than on a whole function of real code. Removing prints is not
focused: shown a print alone, the bundled model often writes ``return`` in its place (real
prints: 58–83% exact against 92% when it writes the whole function).
"""

from __future__ import annotations

import ast
import copy
import io
import tokenize

from .degenerate import stopped_parsing
from .reframe import frame_for
from ..skills import touches

OUTPUT_ROOM = 40  # tokens an edit may add to a window's output (a docstring, f-string prefixes)
MAX_WINDOWS = 64  # beyond this the selection is refused as too long


class WindowError(ValueError):
    """The selection cannot be cut into windows that fit (one statement alone is too long)."""


def source_budget(context_length: int, instruction_tokens: int) -> int:
    """Source tokens one window may hold: prompt (markers, source, instruction) plus output."""
    return max(0, (context_length - instruction_tokens - 4 - OUTPUT_ROOM) // 2)


def _line_starts(text: str, start: int, end: int) -> list[int]:
    """Document offsets of the lines that begin inside (start, end)."""
    out, i = [], text.find("\n", start, end)
    while i != -1 and i + 1 < end:
        out.append(i + 1)
        i = text.find("\n", i + 1, end)
    return out


def _logical_starts(text: str, start: int, end: int) -> list[int]:
    """Offsets in (start, end) of the lines where a logical line begins (``tokenize``: never inside
    a string or brackets); none where the text does not tokenize, nor for text that is not Python."""
    found: set[int] = set()  # lines of text[start:end] (1 = its first)
    depth, fresh = 0, True
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text[start:end]).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL):
                fresh = fresh or depth == 0
                continue
            if tok.type in (tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                continue
            if fresh and depth == 0:
                found.add(tok.start[0])
            fresh = False
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth = max(0, depth - 1)
    except (tokenize.TokenError, SyntaxError):
        return []
    return [off for k, off in enumerate(_line_starts(text, start, end), start=2) if k in found]


def _bodies(tree: ast.AST, depth: int = 0):
    """(statement list, depth) for every block of `tree`."""
    for field in ("body", "orelse", "finalbody", "handlers", "cases"):
        block = getattr(tree, field, None)
        if isinstance(block, list) and block:
            if isinstance(block[0], ast.stmt):
                yield block, depth
            for child in block:
                yield from _bodies(child, depth + 1)


def statement_cuts(text: str, start: int, end: int) -> dict[int, int]:
    """Offsets in (start, end) where a window may begin, with their nesting depth.

    A window begins at a statement that follows another in the same block, so that no window
    ends with a block header whose body is in the next one.
    """
    frame = frame_for(text, start, end)
    lines = _line_starts(text, start, end)
    try:
        tree = ast.parse(frame.model_code)
    except SyntaxError:  # does not parse as dedented (text at column 0 inside a string): where
        return {off: 0 for off in _logical_starts(text, start, end)}  # a logical line begins
    first: dict[int, int] = {}
    for block, depth in _bodies(tree):
        for node in block[1:]:
            decos = getattr(node, "decorator_list", None) or []
            line = min([node.lineno] + [d.lineno for d in decos])
            first[line] = min(depth, first.get(line, depth))
    skip = len(frame.head.split("\n")) - 1  # blank lines kept aside before model line 1
    return {off: first[k - skip] for k, off in enumerate(lines, start=2) if (k - skip) in first}


def fine_cuts(text: str, start: int, end: int) -> list[int]:
    """Offsets in (start, end) where a window may begin inside one statement too long for a window:
    each statement's first line, the first in its block included (the window before it ends with
    its block's header) or after comments, and each comment line (windows of comments alone are
    passed on as they are)."""
    frame = frame_for(text, start, end)
    lines = _line_starts(text, start, end)
    skip = len(frame.head.split("\n")) - 1
    try:
        tree = ast.parse(frame.model_code)
    except SyntaxError:
        return []
    firsts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            decos = getattr(node, "decorator_list", None) or []
            firsts.add(min([node.lineno] + [d.lineno for d in decos]))
    comments = set()  # lines that hold a comment alone (tokenize: not a "#" inside a string)
    try:
        seen = set()
        for tok in tokenize.generate_tokens(io.StringIO(frame.model_code).readline):
            if tok.type == tokenize.COMMENT and tok.start[0] not in seen:
                comments.add(tok.start[0])
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                seen.add(tok.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass
    out = []
    for k, off in enumerate(lines, start=2):
        line = k - skip
        if (line in firsts and line > 1) or line in comments:
            out.append(off)
    return out


def is_comment_block(code: str) -> bool:
    """`code` is comment lines and blank lines only: no skill's rule changes it."""
    lines = [ln.strip() for ln in code.split("\n") if ln.strip()]
    return bool(lines) and all(ln.startswith("#") for ln in lines)


def _parse_dedented(code: str) -> ast.Module | None:
    try:
        return ast.parse(frame_for(code, 0, len(code)).model_code)
    except SyntaxError:
        return None


def is_string_statement(code: str) -> bool:
    """`code` is one string literal statement (a docstring): no skill edits inside it (renames
    leave strings alone; a docstring is added only where there is none)."""
    tree = _parse_dedented(code)
    return (tree is not None and len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr)
            and isinstance(tree.body[0].value, ast.Constant) and isinstance(tree.body[0].value.value, str))


def _docstring_start(text: str, a: int, b: int) -> int | None:
    """Where the docstring of the definition that text[a:b] opens begins (its line), or None."""
    tree = _parse_dedented(text[a:b])
    if tree is None:  # text[a:b] is a header and its docstring only when more statements follow
        tree = _parse_dedented(text[a:b].rstrip() + "\n" + " " * 8 + "pass\n")
    if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                           ast.ClassDef)):
        return None
    first = tree.body[0].body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)):
        return None
    head = frame_for(text, a, b).head.count("\n")
    at, line = a, 1
    while line < first.lineno + head:
        at = text.index("\n", at) + 1
        line += 1
    return at if a < at < b else None


def plan(text: str, start: int, end: int, count_tokens, budget: int, passable=None) -> list[tuple[int, int]]:
    """Consecutive ranges covering [start, end), each within `budget` source tokens.

    Each window ends at the shallowest cut among those that fill at least half the budget. A
    statement longer than the budget (a long docstring or literal) becomes a window of its own
    when ``passable(code)`` says the edit leaves it as it is (it is then passed on unchanged);
    otherwise (with ``passable``) it is cut inside (``fine_cuts``: after a block's header, around a
    run of comments), and where even that does not fit, the selection is refused with a
    WindowError that names the statement and the limit.
    """
    depth = statement_cuts(text, start, end)
    depth[end] = -1
    cuts = sorted(depth)
    out: list[tuple[int, int]] = []
    a = start
    while a < end:
        fitting: list[tuple[int, int]] = []  # (cut, tokens)
        for c in (c for c in cuts if c > a):
            n = count_tokens(frame_for(text, a, c).model_code)
            if n > budget:
                break
            fitting.append((c, n))
        if not fitting:
            nxt = next((c for c in cuts if c > a), end)
            if passable is not None and (is_string_statement(text[a:nxt]) or passable(text[a:nxt])):
                out.append((a, nxt))  # passed on unchanged
                a = nxt
                continue
            split = _docstring_start(text, a, nxt)
            if passable is not None and split is not None and count_tokens(frame_for(text, a, split).model_code) <= budget:
                out.append((a, split))  # the header alone; its long docstring is the next window
                a = split
                continue
            inside = [c for c in fine_cuts(text, a, nxt)
                      if count_tokens(frame_for(text, a, c).model_code) <= budget] if passable is not None else []
            if inside:  # cut inside the statement: at a block's first statement or around comments
                out.append((a, inside[-1]))
                a = inside[-1]
                continue
            n = count_tokens(frame_for(text, a, nxt).model_code)
            line = text.count("\n", 0, a) + 1
            raise WindowError(f"the statement at line {line} alone needs about {n} tokens; "
                              f"one window holds {budget}")
        full = [f for f in fitting if f[1] >= budget // 2] or fitting
        b = min(full, key=lambda f: (depth[f[0]], -f[0]))[0]
        out.append((a, b))
        a = b
        if len(out) > MAX_WINDOWS:
            raise WindowError(f"the selection needs more than {MAX_WINDOWS} windows")
    return out


def passes_through(engine, parent, i: int) -> bool:
    """Window `i` is given back unchanged: "add a docstring" changes only the window with the def,
    and a window the edit cannot touch (engine.skills.touches) needs no model."""
    skill = engine.spec.skill_for(parent.model_instruction) if engine.spec.skills else None
    if skill is None:
        return False
    if parent.windows[i].pass_on is not None:
        return parent.windows[i].pass_on
    if skill.name == "add_docstring":
        return i > 0
    code = parent.windows[i].code
    return is_string_statement(code) or is_comment_block(code) or not touches(skill.name, parent.instruction, code)


def whole_stopped_parsing(parent) -> bool:
    """The whole target parsed and the output of all its windows together does not (both in the
    model's terms: dedented, so that a method parses on its own)."""
    frame = parent.frame
    if frame is None:
        return stopped_parsing(parent.code, parent.output_text)
    return stopped_parsing(frame.model_code, frame.encode_prediction(parent.output_text))


def whole_review_notice(engine, parent) -> str | None:
    """The ``not_the_edit`` check (engine/decode/job.py) of all the windows' output together."""
    from .job import review_notice

    frame = parent.frame
    text = frame.encode_prediction(parent.output_text) if frame is not None else parent.output_text
    return review_notice(engine.spec, parent, text)


# --- focused windows: only the statements the edit changes go through the model -----------------

FOCUSED = ("fstring", "add_docstring")  # skills whose rule changes a few statements


def _is_elif(node: ast.AST, lines: list[str]) -> bool:
    return isinstance(node, ast.If) and lines[node.lineno - 1].lstrip().startswith("elif")


def _parts(node: ast.stmt, lines: list[str]) -> tuple[list[ast.AST], list[list[ast.stmt]]]:
    """(the header's expressions and decorators, the statement blocks) of one statement; an
    ``if``'s ``elif`` tests belong to its header, their bodies are its blocks."""
    blocks: list[list[ast.stmt]] = []
    head: list[ast.AST] = []
    for field, value in ast.iter_fields(node):
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            if field == "orelse" and len(value) == 1 and _is_elif(value[0], lines):
                h, b = _parts(value[0], lines)
                head += h
                blocks += b
            else:
                blocks.append(value)
        elif isinstance(value, list) and value and isinstance(value[0], (ast.excepthandler, ast.match_case)):
            for part in value:
                head += [getattr(part, f) for f in ("type", "pattern", "guard") if getattr(part, f, None) is not None]
                blocks.append(part.body)
        elif isinstance(value, ast.AST):
            head.append(value)
        elif isinstance(value, list):
            head += [v for v in value if isinstance(v, ast.AST)]
    return head, blocks


def _changes(node: ast.AST) -> bool:
    """The f-string rule (engine/skills/verify.py) changes something inside `node`."""
    from ..skills.fstrings import Modernise

    m = Modernise()
    m.visit(copy.deepcopy(node))
    return m.changed > 0


def focused_plan(text: str, start: int, end: int, skill: str, count_tokens, budget: int
                 ) -> list[tuple[int, int, bool]] | None:
    """Ranges covering [start, end), each ``(a, b, edit)``: ``edit`` for a statement the skill's
    rule changes (old string formatting), the smallest that holds the change; the code between
    them is passed on unchanged. For a docstring, the window is the ``def`` header with its first
    statement, or the header alone where that is too long.

    Nothing that changes gives the whole target passed on. None when the target does not parse or
    a statement to edit is longer than a window: the target is then edited as before (whole, or in
    windows by length).
    """
    frame = frame_for(text, start, end)
    try:
        tree = ast.parse(frame.model_code)
    except SyntaxError:
        return None
    lines = frame.model_code.split("\n")
    doc = [start] + _line_starts(text, start, end)
    skip = frame.head.count("\n")

    def at(line: int) -> int:  # document offset where model line `line` begins (or `end`)
        k = line - 1 + skip
        return doc[k] if k < len(doc) else end

    picked: list[tuple[int, int]] = []
    if skill == "add_docstring":  # the header and its first statement, or the header alone
        from ..skills.docstring import draft_text, header_last_line

        def fits(lo: int, hi: int) -> bool:  # the source, and the output with its docstring (a long
            code = frame_for(text, lo, hi).model_code  # name makes a long one), within the context
            src = count_tokens(code)
            drafted = draft_text(code)
            out = count_tokens(drafted) if drafted is not None else src + OUTPUT_ROOM
            return src <= budget and src + out <= 2 * budget + OUTPUT_ROOM

        fn = tree.body[0] if len(tree.body) == 1 else None
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or ast.get_docstring(fn, clean=False) is not None:
            return None
        end_of_header = header_last_line(frame.model_code, fn)
        if end_of_header is None or fn.body[0].lineno <= end_of_header:
            return None
        first = min([fn.lineno] + [d.lineno for d in fn.decorator_list])
        lo = max(at(first), start)
        for last in (fn.body[0].end_lineno, end_of_header):
            if fits(lo, at(last + 1)):
                return [(lo, at(last + 1), True)] + ([(at(last + 1), end, False)] if at(last + 1) < end else [])
        return None

    def visit(block: list[ast.stmt]) -> None:
        for node in block:
            if not _changes(node):
                continue
            head, blocks = _parts(node, lines)
            whole = not blocks or any(_changes(h) for h in head)
            if whole:
                first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
                picked.append((first, node.end_lineno))
            else:
                for b in blocks:
                    visit(b)

    visit(tree.body)
    if not picked:
        return [(start, end, False)]  # nothing the rule changes: the code as it is
    merged: list[list[int]] = []
    for a, b in sorted(picked):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out: list[tuple[int, int, bool]] = []
    pos = start
    for a, b in merged:
        lo, hi = max(at(a), start), at(b + 1)
        if count_tokens(frame_for(text, lo, hi).model_code) > budget:
            return None
        if lo > pos:
            out.append((pos, lo, False))
        out.append((lo, hi, True))
        pos = hi
    if pos < end:
        out.append((pos, end, False))
    if sum(edit for _, _, edit in out) > MAX_WINDOWS:
        return None
    return out
