"""From a conversation to an edit: the instruction, and the code in a fenced block.

An edit model (``ModelInfo.edit_only``) cannot hold a conversation. A chat client gets the edit
path when its last user message holds an instruction and a fenced code block, or an instruction
alone after a conversation that already holds one (the latest message with code: the code a
previous answer produced, or a file the client added earlier, as Aider does). The answer is the
edited code in a fence of the same language, preceded by the file name line when the code block
had one (Aider's whole-file format). Anything else gets :data:`ONLY_EDITS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ONLY_EDITS = (
    "{model} only edits code. Send an instruction together with the code in a fenced block, for example:\n\n"
    "Remove the print calls\n\n```python\ndef total(xs):\n    s = 0\n    for x in xs:\n        print(x)\n"
    "        s += x\n    return s\n```"
)
NO_INSTRUCTION = "Say what to change in the code (for example: remove the print calls)."

_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)([^`]*)$")
_PATH = re.compile(r"^[\w./\\-]+\.[\w]+$")


@dataclass
class Block:
    code: str  # the fenced code, without the fences
    language: str  # the first word of the fence's info string ("" when none)
    filename: str | None  # a file path on the line right above the fence, or in the info string
    start: int  # character offset of the opening fence line in the message
    end: int  # character offset just past the closing fence line
    fence: str = "```"  # the opening fence's characters (an answer uses the same)


@dataclass
class Edit:
    instruction: str  # what to change
    block: Block  # the code to change


def fenced_blocks(text: str) -> list[Block]:
    """Fenced code blocks (``` or ~~~, CommonMark's rules for the closing fence), in order."""
    lines = text.splitlines(keepends=True)
    blocks: list[Block] = []
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i].rstrip("\r\n"))
        if not m:
            i += 1
            continue
        fence, language, rest = m.group(1), m.group(2), m.group(3).strip()
        close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j].rstrip("\r\n")):
            j += 1
        if j == len(lines):  # never closed: not a block (a half-typed message)
            break
        filename = _filename(language, rest, lines[i - 1].strip() if i > 0 else "")
        if language and _PATH.match(language) and "." in language and not rest:
            language = language.rsplit(".", 1)[-1]
        blocks.append(Block("".join(lines[i + 1:j]), language, filename, offsets[i], offsets[j + 1], fence))
        i = j + 1
    return blocks


def _filename(language: str, rest: str, above: str) -> str | None:
    for candidate in (rest.split(" ")[0] if rest else "", above):
        if candidate and _PATH.match(candidate) and len(candidate) < 260:
            return candidate
    if "." in language and _PATH.match(language):
        return language
    return None


def find_edit(messages: list[tuple[str, str]]) -> Edit | str:
    """The edit a conversation asks for, or the text to answer when it asks for none (a template
    with ``{model}``).

    `messages` are (role, text) pairs in order. System messages are not edited, but they tell a
    format example from code: a fenced block (and a paragraph) of a user message that the system
    prompt also holds is the client's reminder of its answer format (Aider appends its
    ``path/to/filename.js`` listing example to the last user message), not code or instruction.
    Of several blocks, the one whose file the instruction names is edited, else the one defining a
    name the instruction mentions, else the last.
    """
    users = [i for i, (role, _) in enumerate(messages) if role == "user"]
    if not users:
        return ONLY_EDITS
    system = "\n".join(text for role, text in messages if role in ("system", "developer"))
    last = users[-1]
    text = messages[last][1]
    blocks, instruction = _code_and_words(text, system)
    if blocks:
        return Edit(instruction, _choose(blocks, instruction)) if instruction else NO_INSTRUCTION
    for role, earlier in reversed(messages[:last]):
        if role in ("user", "assistant"):
            found = _code_and_words(earlier, system)[0]
            if found:
                return Edit(instruction, _choose(found, instruction)) if instruction else NO_INSTRUCTION
    return ONLY_EDITS


def _code_and_words(text: str, system: str) -> tuple[list[Block], str]:
    """The code blocks of a message and its words around them, format reminders taken out.

    The reminder is the longest tail of the message, from a paragraph on, that the system prompt
    holds word for word (a single paragraph only when something comes before it: a one-line
    instruction may well be a line of the system prompt too); a block the system prompt holds is
    an example wherever it stands.
    """
    starts = [0] + [m.end() for m in re.finditer(r"\n[ \t]*\n", text)]
    for at in starts:
        if (at > 0 or len(starts) > 1) and _within(text[at:], system):
            text = text[:at]
            break
    blocks, cuts = [], []
    for block in fenced_blocks(text):
        start = block.start
        above = text.rfind("\n", 0, max(0, start - 1)) + 1
        if block.filename and text[above:start].strip() == block.filename:
            start = above  # the file name line belongs to the block
        if not _within(text[block.start:block.end], system):
            blocks.append(block)
        cuts.append((start, block.end))
    words, at = [], 0
    for start, end in cuts:
        words.append(text[at:start])
        at = end
    words.append(text[at:])
    return blocks, "\n\n".join(w.strip() for w in words if w.strip())


def _within(part: str, system: str) -> bool:
    """Whether `part` is whole lines of the system prompt (a format reminder repeated)."""
    part = part.strip("\r\n")
    return bool(part.strip()) and f"\n{part}\n" in f"\n{system}\n"


def _choose(blocks: list[Block], instruction: str) -> Block:
    """The block the instruction is about (see :func:`find_edit`)."""
    named = [b for b in blocks if b.filename and re.search(
        rf"(?<![\w.-]){re.escape(b.filename.replace(chr(92), '/').rsplit('/', 1)[-1])}(?![\w-])", instruction)]
    if named:
        return named[-1]
    mentioned = set(re.findall(r"[A-Za-z_]\w*", instruction))
    defining = [b for b in blocks if any(name in mentioned for name in re.findall(
        r"^[ \t]*(?:async[ \t]+)?(?:def|class|function|fn|func)[ \t]+([A-Za-z_]\w*)", b.code, re.M))]
    return (defining or blocks)[-1]


def opening(block: Block) -> str:
    """What an answer to `block` says before the edited code: file name line, opening fence."""
    head = f"{block.filename}\n" if block.filename else ""
    return f"{head}{block.fence}{block.language}\n"


def closing(output: str, fence: str = "```") -> str:
    """The closing fence after the edited code `output`."""
    return fence if not output or output.endswith("\n") else f"\n{fence}"


def strip_fence(text: str) -> str:
    """A prediction given as a fenced block is the code inside it."""
    blocks = fenced_blocks(text)
    return blocks[0].code if len(blocks) == 1 and not text[:blocks[0].start].strip() else text


def common_indent(code: str) -> str:
    """The whitespace every non-blank line of `code` starts with (a method pasted from its class)."""
    prefixes = [line[:len(line) - len(line.lstrip())] for line in code.splitlines() if line.strip()]
    if not prefixes:
        return ""
    first, last = min(prefixes), max(prefixes)
    n = 0
    while n < len(first) and first[n] == last[n]:
        n += 1
    return first[:n]


def dedent(text: str, indent: str) -> str:
    """`text` without `indent` at the start of its lines (blank lines become empty)."""
    if not indent:
        return text
    lines = text.splitlines(keepends=True)
    if not all(line.startswith(indent) or not line.strip() for line in lines):
        return text
    return "".join(line[len(indent):] if line.strip() else line.lstrip(" \t") for line in lines)


class Reindent:
    """Puts `indent` back at the start of each non-empty line of a streamed text."""

    def __init__(self, indent: str):
        self.indent = indent
        self.at_line_start = True

    def push(self, text: str) -> str:
        if not self.indent or not text:
            return text
        out = []
        for line in text.splitlines(keepends=True):
            if self.at_line_start and line not in ("\n", "\r\n"):
                out.append(self.indent)
            out.append(line)
            self.at_line_start = line.endswith("\n")
        return "".join(out)
