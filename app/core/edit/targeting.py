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
_TOP_LEVEL = re.compile(r"[^\s#)\]}]")  # at a line's start: a top-level statement begins there
_CONTINUES = ("else", "elif", "except", "finally")  # top-level lines that continue a statement


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
    """[start, end) of the top-level statement around `offset`, decorators included."""
    def line_start(pos: int) -> int:
        return text.rfind("\n", 0, pos) + 1

    def next_line(pos: int) -> int:
        nl = text.find("\n", pos)
        return len(text) if nl < 0 else nl + 1

    start = line_start(offset)
    while start > 0 and not _TOP_LEVEL.match(text, start):
        start = line_start(start - 1)
    while start > 0 and text.startswith("@", line_start(start - 1)):
        start = line_start(start - 1)
    end = next_line(offset)
    while end < len(text) and (not _TOP_LEVEL.match(text, end) or text.startswith(_CONTINUES, end)):
        end = next_line(end)
    return start, end


def enclosing_function(text: str, offset: int) -> Target | None:
    """The innermost def/async def whose lines contain `offset`, or None."""
    base, lines_before, source = 0, 0, text
    if len(text) > WHOLE_PARSE_CHARS:
        base, end = _top_level_region(text, offset)
        lines_before, source = text.count("\n", 0, base), text[base:end]
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    starts = line_starts(source)
    line = line_of(starts, offset - base)
    best: ast.AST | None = None
    best_first = 0
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        last = node.end_lineno or node.lineno
        if first <= line <= last and (best is None or first >= best_first):
            best, best_first = node, first
    if best is None:
        return None
    last = best.end_lineno or best.lineno
    start = starts[best_first - 1]
    end = starts[last] if last < len(starts) else len(source)
    name = getattr(best, "name", "?")
    return Target(base + start, base + end, "function",
                  f"function {name} (lines {best_first + lines_before}–{last + lines_before})")


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
