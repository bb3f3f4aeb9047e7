"""What an edit's end tells the user beyond "Done": out of scope, does not parse, too long. No Qt.

The engine says when an instruction is outside the model's skills (a `notice` with code
``out_of_scope``), when the finished output stopped parsing (``unparsable``) and when a target
cannot fit the model's context (``context_overflow``). The app turns each into a `Notice` shown
above the diff until the next edit, with the one action that helps (choose a larger model, narrow
the target). It also checks the edited file itself: an edit made in windows, or one whose output
parses alone but breaks the file, is caught the same way.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.edit.targeting import Target, narrower_function, statement_regions
from wire import DoneStats

_DEFINITION = re.compile(r"@|(?:async[ \t]+)?def\b|class\b")  # a line that starts a definition
OUT_OF_SCOPE, UNPARSABLE, OVERFLOW, UNCHANGED = "out_of_scope", "unparsable", "overflow", "unchanged"
NOT_THE_EDIT = "not_the_edit"  # the engine's notice: an edit that parses but is not the skill's edit
NEEDS_FUNCTION = "needs_function"  # the engine's notice: a one-function skill asked of code that is not one
NOTHING = "nothing_to_change"  # the engine's notice: the skill finds nothing to change in the target
WHOLE_FILE_CHARS = 512 * 1024  # where the statements around the target do not parse alone, files up to
# this size are checked whole, larger ones on the edited target alone (parse time)


@dataclass(frozen=True)
class Notice:
    kind: str  # OUT_OF_SCOPE, NEEDS_FUNCTION, NOTHING, NOT_THE_EDIT, UNPARSABLE, OVERFLOW or UNCHANGED
    text: str  # the message above the diff, in full sentences
    action: str = ""  # the label of the button that helps ("" for none)

    def parts(self) -> tuple[str, str, str]:
        """(kind, text, action), as `EditView.show_notice` takes them."""
        return self.kind, self.text, self.action


@dataclass(frozen=True)
class SyntaxProblem:
    out_line: int  # 0-based line of the edit's output where the file stops parsing (-1: not in it)
    file_line: int  # 1-based line of the edited file
    message: str  # Python's own words, e.g. "invalid syntax"

    def describe(self) -> str:
        return f"line {self.file_line}: {self.message}"


def _error(code: str) -> SyntaxError | None:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return exc
    except ValueError as exc:  # a NUL byte
        return SyntaxError(str(exc))
    return None


def syntax_problem(snapshot: str, start: int, end: int, output: str) -> SyntaxProblem | None:
    """The syntax error that replacing ``snapshot[start:end]`` with ``output`` brings, or None.

    None when the result parses, and when the code did not parse before either (nothing is
    blamed on the edit). The code around the target is checked with it, so an output that parses
    alone but breaks its surroundings (a wrong indentation) is caught too: in a long file the
    statements around the target (`statement_regions`: a method of a long class, not the class),
    else the whole file, else the target alone. A 6,000-line module is not parsed whole at the
    end of every edit.
    """
    first_line = snapshot.count("\n", 0, start) + 1
    regions = statement_regions(snapshot, start, end)
    if len(snapshot) <= WHOLE_FILE_CHARS:
        regions.append((0, len(snapshot), False))
    for r_start, r_end, indented in regions:
        follows = _next_code_line(snapshot, r_end)
        r_end = follows[0] if follows else r_end  # blank and comment lines: line numbers as in the file
        after = "" if follows is None else follows[1] + _stand_in(snapshot, follows[0] + len(follows[1]))
        head = "if 1:\n" + _indent(snapshot, r_start) + "pass\n" if indented else ""
        # Blank lines before it: Python's line numbers (in messages too) are the file's.
        head = "\n" * max(0, snapshot.count("\n", 0, r_start) - head.count("\n")) + head
        if _error(head + snapshot[r_start:r_end] + after) is not None:
            continue  # does not parse alone (or did not parse before): the next, wider piece
        exc = _error(head + snapshot[r_start:start] + output + snapshot[end:r_end] + after)
        if exc is None:
            return None
        line = snapshot.count("\n", 0, r_start) + (exc.lineno or 1) - head.count("\n")
        break
    else:
        before, after = textwrap.dedent(snapshot[start:end]), textwrap.dedent(output)
        if _error(before) is not None:
            return None
        exc = _error(after)
        if exc is None:
            return None
        line = first_line + (exc.lineno or 1) - 1
    out_lines = output.count("\n") + (0 if output.endswith("\n") else 1)
    out_line = line - first_line
    message = re.sub(r" \(detected at line \d+\)$", "", exc.msg or "invalid syntax")  # said once, in `line`
    return SyntaxProblem(out_line if 0 <= out_line < out_lines else -1, line, message)


def _indent(text: str, line_start: int) -> str:
    """The spaces and tabs that begin the line at `line_start`."""
    end = line_start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[line_start:end]


def _stand_in(text: str, pos: int) -> str:
    """A one-line statement that stands for the code at `pos` (which follows a piece parsed alone):
    a definition where a definition or decorator follows (a decorator before it stays valid), else
    ``pass``."""
    return "def _(): pass\n" if _DEFINITION.match(text, pos) else "pass\n"


def _next_code_line(text: str, pos: int) -> tuple[int, str] | None:
    """(start, indentation) of the first line from `pos` (a line start) that is neither blank nor a
    comment; None at the end of the text. A piece parsed alone ends with a stand-in indented as that
    line: members that follow a class member, top-level code that follows the class."""
    while pos < len(text):
        indent = _indent(text, pos)
        if text[pos + len(indent):pos + len(indent) + 1] not in ("\n", "\r", "#"):
            return pos, indent
        nl = text.find("\n", pos)
        if nl < 0:
            return None
        pos = nl + 1
    return None


def apply_hunks(original: str, hunks: Sequence) -> str:
    """`original` with every hunk (``orig_start_char``, ``orig_end_char``, ``new_text``) applied."""
    out, pos = [], 0
    for hunk in sorted(hunks, key=lambda h: h.orig_start_char):
        out += [original[pos:hunk.orig_start_char], hunk.new_text]
        pos = hunk.orig_end_char
    out.append(original[pos:])
    return "".join(out)


def unparsable_notice(problem: SyntaxProblem | None, engine_message: str = "") -> Notice:
    where = f" ({problem.describe()})" if problem is not None else ""
    return Notice(UNPARSABLE, (
        f"⚠ The edited code does not parse{where}: accepting it would break the file. The line is "
        "marked in red below; accept changes one by one, or Ctrl+Enter asks before accepting them all."
        + (f" Engine: {engine_message}." if engine_message and problem is None else "")))


def not_the_edit_notice(engine_message: str) -> Notice:
    """An edit that parses but is not the edit asked for (the engine's check of its skill's rule)."""
    return Notice(NOT_THE_EDIT, (
        f"⚠ {engine_message[:1].upper()}{engine_message[1:]}. The model's output parses, but it is not exactly "
        "the edit asked for: read the changes before accepting them; Ctrl+Enter asks before accepting them all."))


def skills_phrase(examples: Sequence[str]) -> str:
    """“rename variable x to total” · “add a docstring” · “convert to f-strings”."""
    return " · ".join(f"“{e}”" for e in examples if e)


def _name_and_skills(model_name: str, examples: Sequence[str]) -> tuple[str, str]:
    """The model's name for messages and its skills phrase ("" for a free-form model)."""
    return model_name or "this model", skills_phrase(examples)


def out_of_scope_notice(instruction: str, model_name: str, examples: Sequence[str]) -> Notice:
    """Not edited: what the model can do, and how to get a model that can do this."""
    name, can = _name_and_skills(model_name, examples)
    skills = f"\n{name} was trained for: {can}." if can else ""
    return Notice(OUT_OF_SCOPE, (
        f"Not edited: “{instruction}” is outside what {name} can do; the code is unchanged.{skills}\n"
        "For other edits use a larger model: Choose a model… (Model ▾ in the toolbar) takes a model "
        "folder or an OpenAI-compatible endpoint. Your instruction stays in the bar."), "Choose a model…")


def unchanged_notice(instruction: str, model_name: str, examples: Sequence[str]) -> Notice:
    """An instruction among the model's skills that changed nothing: say so, and what else to try."""
    name, can = _name_and_skills(model_name, examples)
    skills = f" It was trained for: {can}." if can else ""
    return Notice(UNCHANGED, (
        f"No change: {name} returned the code as it was for “{instruction}”. It knows this kind of edit, "
        f"but found nothing here it could do (a small model handles the common forms only).{skills}\n"
        "Your instruction stays in the bar: select less code and press Enter again, or use a larger "
        "model: Choose a model… (Model ▾ in the toolbar)."), "Choose a model…")


def overflow_notice(message: str, narrower_label: str | None) -> Notice:
    """Too long for the context: the engine's or the meter's figures, and a way to narrow."""
    text = message.rstrip(".") + "."
    if narrower_label:  # the button says what to select instead of the general advice
        text = re.sub(r"\s*Select (a smaller part of the file|less code \(the enclosing function\))[^.]*\.", "", text)
        return Notice(OVERFLOW, f"{text} The instruction stays in the bar: narrow the target to the "
                                f"{narrower_label} and press Enter again, or choose a model with a longer "
                                "context (Model ▾).", f"Narrow to {narrower_label}")
    if "longer context" in text:  # the engine's reason already says what to do
        return Notice(OVERFLOW, f"{text} The instruction stays in the bar.")
    return Notice(OVERFLOW, f"{text} The instruction stays in the bar: select a smaller part, or "
                            "choose a model with a longer context (Model ▾).")



def overflow_refusal(text: str, start: int, end: int, target: Target, message: str) -> tuple[Target | None, Notice]:
    """A target too long for the model (the engine's `message`): the enclosing function to offer
    instead (None: none; `start`, `end` the selection) and the notice that offers it."""
    named = re.search(r"statement at line (\d+)", message)  # the engine's reason, when it names one
    narrower = narrower_function(text, start, end, target, int(named.group(1)) if named else 0)
    label = narrower.label.split(" (")[0] if narrower is not None else None  # "function parse"
    return narrower, overflow_notice(message, label)

def speed_summary(tokens: int, stats: DoneStats, shown: float | None) -> str:
    """"40 tokens, 1,200 tok/s average (engine decode 1,187)": the figure the gauge shows first
    (metrics.shown_rate), the engine's own second and labelled where it differs."""
    tok_s = stats.decode_tok_s
    emulated = stats.emulated_tok_s if stats.paced else None
    if emulated is not None and tok_s:  # the pace the user saw comes first
        return f"{tokens} tokens, {emulated:,.0f} tok/s emulated ({tok_s:,.0f} computed here)"
    if not isinstance(shown, (int, float)) or not shown:
        return f"{tokens} tokens, {tok_s:,.0f} tok/s" if tok_s else f"{tokens} tokens"
    summary = f"{tokens} tokens, {shown:,.0f} tok/s average"
    if tok_s and f"{tok_s:,.0f}" != f"{shown:,.0f}":
        summary += f" (engine decode {tok_s:,.0f})"
    return summary


def remote_note(stats: DoneStats) -> str:
    """", via websocket; predicted output 40/52 tokens accepted" for a request a remote server ran."""
    if stats.backend != "remote":
        return ""
    note = f", via {stats.transport or 'http'}"
    if stats.draft_proposed_tokens > 0:
        note += f"; predicted output {stats.draft_accepted_tokens}/{stats.draft_proposed_tokens} tokens accepted"
    return note
