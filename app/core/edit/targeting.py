"""Which text an edit targets, and whether the prompt fits the model's context. No Qt.

With a selection, the selection is the target. Without one, the innermost function (or method)
around the cursor, decorators included, so "add a docstring" with the cursor in a function does
what the user means; when there is none (or the file does not parse, e.g. mid-edit), the file.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

# A rough bytes-per-token figure for code with BPE tokenizers, used only until the engine has
# counted the real prompt (its `ready` carries `prompt_tokens`).
CHARS_PER_TOKEN = 3.5
# An edit usually rewrites about as much as it targets; leave room for growth (docstrings, tests).
OUTPUT_GROWTH = 2.0
MIN_OUTPUT_TOKENS = 256
# Longer files are not parsed whole on every keystroke, only the top-level statements around the
# cursor: a 9 MiB file takes seconds to parse, a function's neighbourhood a millisecond.
WHOLE_PARSE_CHARS = 256 * 1024
_TOP_START = re.compile(r"^[^\s#)\]}]", re.MULTILINE)  # a line where a top-level statement begins
_CONTINUES = ("else", "elif", "except", "finally")  # top-level lines that continue a statement
# Files longer than this are parsed piece by piece: the statement, or class member, around the cursor.
NARROW_CHARS = 16 * 1024
_CLASS = re.compile(r"(?:@.*\n(?:[ \t]*(?:#.*)?\n)*)*class\s")  # a (decorated) class statement
_BODY_LINE = re.compile(r"^([ \t]+)[^\s#]", re.MULTILINE)  # the first code line of an indented body


@dataclass(frozen=True)
class Target:
    start: int  # character offset of the first targeted character
    end: int  # character offset just past the target (exclusive)
    kind: str  # "selection", "function" or "file"
    label: str  # what the status line says, e.g. "function parse (lines 3–9)"


def line_starts(text: str) -> list[int]:
    """Character offset of the start of each line (1-based line n starts at result[n - 1])."""
    return [0, *(m.end() for m in re.finditer("\n", text))]


def line_of(starts: list[int], offset: int) -> int:
    """1-based line number containing `offset`."""
    lo, hi = 0, len(starts)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid
    return lo + 1


def _top_level_region(text: str, offset: int) -> tuple[int, int]:
    """[start, end) of the top-level statement around `offset`, decorators included.

    Found with a regular expression, a few kilobytes at a time backwards: a class of thousands of
    lines is crossed without a Python loop over its lines.
    """
    def line_start(pos: int) -> int:
        return text.rfind("\n", 0, pos) + 1

    start, hi = 0, line_start(offset) + 1
    while hi > 0:
        lo = max(0, hi - 16 * 1024)
        found = [m.start() for m in _TOP_START.finditer(text, lo, hi) if not text.startswith(_CONTINUES, m.start())]
        if found:
            start = found[-1]
            break
        hi = lo
    while start > 0 and text.startswith("@", line_start(start - 1)):
        start = line_start(start - 1)
    nl = text.find("\n", offset)
    end = len(text)
    for m in _TOP_START.finditer(text, len(text) if nl < 0 else nl + 1):
        if not text.startswith(_CONTINUES, m.start()):
            end = m.start()
            break
    return start, end


def _member_region(text: str, start: int, end: int, offset: int) -> tuple[int, int] | None:
    """Within a class statement [start, end): [start, end) of the member statement around `offset`.

    None when the class body is not indented with spaces alone or `offset` is not in a member.
    """
    header_end = text.find(":", start, end)
    body = text.find("\n", header_end, end) + 1 if header_end >= 0 else 0
    member = _BODY_LINE.search(text, body, end) if body else None
    if member is None or member.start() > offset:
        return None
    indent = member.group(1)
    if "\t" in indent:
        return None
    statement = re.compile(re.escape(indent) + r"[^\s#)\]}]")
    line = text.rfind("\n", start, offset) + 1
    while line > member.start() and not (statement.match(text, line)
                                         and not text.startswith(_CONTINUES, line + len(indent))):
        line = text.rfind("\n", start, line - 1) + 1
    while line > member.start() and text.startswith(indent + "@", text.rfind("\n", start, line - 1) + 1):
        line = text.rfind("\n", start, line - 1) + 1
    stop = text.find("\n", offset, end) + 1 or end
    while stop < end:
        shallow = statement.match(text, stop) and not text.startswith(_CONTINUES, stop + len(indent))
        if shallow or (text[stop] not in " \t\r\n#" and not text.startswith(indent, stop)):
            break
        stop = text.find("\n", stop, end) + 1 or end
    return line, stop


def _innermost_def(tree: ast.AST, line: int) -> tuple[ast.AST, int] | None:
    """The innermost def/async def whose lines (decorators included) hold `line`, and its first line.

    Only nodes whose lines hold `line` are opened: a file's other functions are never visited.
    """
    best: tuple[ast.AST, int] | None = None
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        if hasattr(node, "lineno"):
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            if not first <= line <= (node.end_lineno or node.lineno):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (best is None or first >= best[1]):
                best = (node, first)
        stack.extend(ast.iter_child_nodes(node))
    return best


_whole: list = [None, None]  # [text, its tree or None]: the last whole file parsed (the same text is not parsed again)


def _parse_region(text: str, start: int, end: int, indented: bool) -> ast.AST | None:
    """The tree of text[start:end]; an indented region is parsed inside ``if 1:`` (one line more)."""
    whole = start == 0 and end == len(text) and not indented
    if whole and _whole[0] == text:
        return _whole[1]
    source = text[start:end]
    try:
        tree = ast.parse("if 1:\n" + source if indented else source)
    except (SyntaxError, ValueError):
        tree = None
    if whole:
        _whole[:] = [text, tree]
    return tree


def statement_regions(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """Pieces of a long file around ``text[start:end]`` that parse alone, narrowest first.

    Each is ``(start, end, indented)``: of a long class, the member statements holding the span
    (indented: parse it inside ``if 1:``); then the top-level statements holding it. Empty for a
    file of at most NARROW_CHARS, which is parsed whole. A piece may still fail to parse alone
    (a string that spans its edge): the caller then tries the next.
    """
    if len(text) <= NARROW_CHARS:
        return []
    last = max(start, end - 1)
    top = _top_level_region(text, start)
    if last >= top[1]:
        top = (top[0], max(top[1], _top_level_region(text, last)[1]))
    regions: list[tuple[int, int, bool]] = []
    if top[1] - top[0] > NARROW_CHARS and _CLASS.match(text, top[0]):
        member = _member_region(text, *top, start)
        if member is not None and last >= member[1]:
            other = _member_region(text, *top, last)
            member = (member[0], max(member[1], other[1])) if other is not None else None
        if member is not None:
            regions.append((*member, True))
    regions.append((*top, False))
    return regions


def enclosing_function(text: str, offset: int) -> Target | None:
    """The innermost def/async def whose lines contain `offset`, or None.

    A long file is not parsed whole (a 6,000-line module takes a tenth of a second): only the
    top-level statement around the cursor, and of a long class only the member around it; where
    such a piece does not parse alone, the next wider one is parsed.
    """
    regions = statement_regions(text, offset, offset)
    if len(text) <= WHOLE_PARSE_CHARS:
        regions.append((0, len(text), False))
    for start, end, indented in regions:
        tree = _parse_region(text, start, end, indented)
        if tree is not None:
            break
    else:
        return None
    shift = 1 if indented else 0  # the ``if 1:`` line
    found = _innermost_def(tree, text.count("\n", start, offset) + 1 + shift)
    if found is None:
        return None
    node, first = found
    first, last = first - shift, (node.end_lineno or node.lineno) - shift  # lines of the region
    begin = _line_start(text, start, first)
    finish = _line_start(text, begin, last - first + 2)
    before = text.count("\n", 0, start)
    name = getattr(node, "name", "?")
    return Target(begin, finish, "function", f"function {name} (lines {first + before}–{last + before})")


def _line_start(text: str, start: int, line: int) -> int:
    """Offset where the `line`-th line (1-based) from `start` begins (the text's end past the last)."""
    pos = start
    for _ in range(line - 1):
        pos = text.find("\n", pos) + 1
        if pos == 0:
            return len(text)
    return pos


def choose_target(text: str, sel_start: int, sel_end: int, language: str = "python") -> Target:
    """The selection if there is one, else the enclosing function (Python), else the file."""
    sel_start, sel_end = sorted((max(0, sel_start), max(0, sel_end)))
    sel_start, sel_end = min(sel_start, len(text)), min(sel_end, len(text))
    if sel_end > sel_start:
        first = text.count("\n", 0, sel_start) + 1
        last = first + text.count("\n", sel_start, max(sel_start, sel_end - 1))
        span = f"line {first}" if first == last else f"lines {first}–{last}"
        return Target(sel_start, sel_end, "selection", f"selection ({span})")
    if language.lower() in ("python", "py", "python3"):
        function = enclosing_function(text, sel_start)
        if function is not None:
            return function
    return Target(0, len(text), "file", f"whole file ({text.count(chr(10)) + 1} lines)")


def narrower_function(text: str, sel_start: int, sel_end: int, current: Target,
                      avoid_line: int = 0) -> Target | None:
    """What "narrow to the enclosing function" edits instead of a target too long to fit: the
    innermost function around the selection's start (else its end) that is smaller than `current`
    and does not hold `avoid_line` (1-based; the statement the engine named as too long alone)."""
    for offset in dict.fromkeys((sel_start, max(sel_start, sel_end - 1))):
        function = enclosing_function(text, offset)
        if function is None or function.end - function.start >= current.end - current.start:
            continue
        first = text.count("\n", 0, function.start) + 1
        if first <= avoid_line <= first + text.count("\n", function.start, function.end):
            continue
        return function
    return None


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN + 0.999)


def output_budget(target_text: str, context_left: int | None = None) -> int:
    """max_tokens for an edit of `target_text`: room to rewrite it with growth, within context."""
    budget = max(MIN_OUTPUT_TOKENS, int(estimate_tokens(target_text) * OUTPUT_GROWTH) + 64)
    if context_left is not None:
        budget = min(budget, max(0, context_left))
    return budget


@dataclass(frozen=True)
class ContextFit:
    prompt_tokens: int  # tokens of the prompt (document/target + instruction)
    output_tokens: int  # tokens reserved for the edit
    context_length: int  # tokens the model attends to; 0 when unknown
    windows: int = 0  # windows the engine edits a longer target in, one after another (0: one prompt)
    refusal: str = ""  # the engine's reason it cannot edit the target at all ("" when it can)

    @property
    def used_tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens

    @property
    def fits(self) -> bool:
        if self.refusal:
            return False
        return self.context_length <= 0 or self.windows > 0 or self.used_tokens <= self.context_length

    @property
    def fraction(self) -> float:
        """Share of the context window the request needs (may exceed 1)."""
        return self.used_tokens / self.context_length if self.context_length > 0 else 0.0

    def message(self) -> str:
        if self.fits:
            return ""
        if self.refusal:
            return f"Too long for the model: {self.refusal}"
        return (
            f"This edit needs about {self.used_tokens:,} tokens ({self.prompt_tokens:,} of prompt + "
            f"{self.output_tokens:,} for the edit) but the model's context holds "
            f"{self.context_length:,}. Select a smaller part of the file."
        )


def check_fit(prompt_tokens: int, target_text: str, instruction: str, context_length: int) -> ContextFit:
    """Does prompt + instruction + room for the edit fit? `prompt_tokens` may be 0 (unknown)."""
    prompt = max(prompt_tokens, estimate_tokens(target_text)) + estimate_tokens(instruction) + 4
    output = output_budget(target_text)
    return ContextFit(prompt, output, max(0, context_length))


def fit_from_measure(prompt_tokens: int, source_tokens: int, context_length: int,
                     windows: int = 0, refusal: str = "") -> ContextFit:
    """The engine's own count (`measured`): the prompt plus one rewrite of the source must fit,
    unless the engine edits the target in `windows`; `refusal` is its reason when it cannot."""
    return ContextFit(max(0, prompt_tokens), max(0, source_tokens), max(0, context_length),
                      max(0, windows), refusal)
