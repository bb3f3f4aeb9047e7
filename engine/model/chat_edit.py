"""The edit prompt for chat models, and the streaming filter that takes the code out of the answer.

Chat models (a remote OpenAI-compatible server, or a local model with a chat template) are asked
for an edit the way Continue, Zed and Aider ask: a system message wanting a minimal edit of the
selected code, then a user message with the file name, the code around the selection and the
selection itself in fenced blocks, and the instruction last (so everything before it can be
cached while the user types). The answer is expected in one fenced block; :class:`FenceFilter`
strips the fences and any prose around them while the answer streams, so a live diff only ever
sees code, and what it has shown is never taken back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SYSTEM_PROMPT = (
    "You are a precise code editor. You receive a file name, the code around a selection, the "
    "selected code and an instruction. Rewrite only the selected code so that it follows the "
    "instruction. Make the smallest change that does it: keep every other line, name, comment, blank "
    "line and the indentation exactly as it is. Reply with the complete rewritten selection in one "
    "fenced code block and nothing else: no explanation, no surrounding context."
)
CONTEXT_LINES = 40  # lines of the file shown before and after the selection
CONTEXT_CHARS = 6000  # at most this many characters of context on each side

_LANG_BY_SUFFIX = {".py": "python", ".pyi": "python", ".js": "javascript", ".ts": "typescript",
                   ".rs": "rust", ".go": "go", ".c": "c", ".h": "c", ".cpp": "cpp", ".java": "java",
                   ".rb": "ruby", ".sh": "bash", ".md": "markdown", ".json": "json", ".toml": "toml"}


@dataclass
class ChatEdit:
    messages: list[dict]  # OpenAI chat messages: system, user (and, after a redirect, the partial answer)
    prediction: str  # the predicted output: the original selection (or what is left of it)
    fence: str  # the fence the code block should use (longer than any backtick run in the code)
    keep_final_newline: bool  # the selection ends with a newline, so the answer keeps its last one
    partial: str = ""  # output already shown before a redirect (the answer continues after it)
    instruction_at: int = -1  # offset in the user message where the instruction begins (all before it
    # is instruction-free: a server can prefill it while the user types)


def fence_for(*texts: str) -> str:
    """A backtick fence longer than any backtick run in `texts` (CommonMark, as Aider and Zed do)."""
    longest = max((len(m) for t in texts for m in re.findall(r"`+", t)), default=0)
    return "`" * max(3, longest + 1)


def language_of(path: str | None, fallback: str = "") -> str:
    if not path:
        return fallback
    suffix = path[path.rfind("."):].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _LANG_BY_SUFFIX.get(suffix, fallback)


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    before = text[:start].splitlines(keepends=True)[-CONTEXT_LINES:]
    after = text[end:].splitlines(keepends=True)[:CONTEXT_LINES]
    return "".join(before)[-CONTEXT_CHARS:], "".join(after)[:CONTEXT_CHARS]


def build_chat_edit(instruction: str, document: str, selection: tuple[int, int] | None = None,
                    path: str | None = None, language: str = "", partial: str = "") -> ChatEdit:
    """Messages asking a chat model to edit `document[selection]` as `instruction` says.

    `partial` is output already shown before a redirect: the model sees it and is asked to go on
    from where it stops, under the new instruction (the partial output stays as context).
    """
    start, end = selection if selection is not None else (0, len(document))
    code = document[start:end]
    before, after = _context(document, start, end)
    fence = fence_for(code, before, after, partial)
    lang = language_of(path, language if language != "text" else "")
    name = path.rsplit("/", 1)[-1] if path else "untitled"
    # The selection is the last fenced block (edit routers such as this engine's own OpenAI API take
    # the last block as the code), and everything but the instruction comes first, for caching.
    parts = [f"File: {name}\n"]
    if before.strip():
        parts.append(f"Code before the selection (context, do not repeat it):\n{fence}{lang}\n{_nl(before)}{fence}\n")
    if after.strip():
        parts.append(f"Code after the selection (context, do not repeat it):\n{fence}{lang}\n{_nl(after)}{fence}\n")
    if partial:
        parts.append(f"Your rewrite so far (final, kept as it is):\n{fence}{lang}\n{_nl(partial)}{fence}\n")
    parts.append(f"Selected code to rewrite:\n{fence}{lang}\n{_nl(code)}{fence}\n")
    instruction_at = len("\n".join(parts)) + 1
    parts.append(f"Instruction: {instruction.strip()}\n")
    if partial:
        parts.append("Continue the rewrite exactly where the part written so far stops, following the "
                     f"instruction. Reply with one {fence}{lang} block holding only the remaining code "
                     "(do not repeat the part written so far).")
    else:
        parts.append(f"Reply with the rewritten selected code only, in one {fence}{lang} block.")
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(parts)}]
    prediction = code[len(partial):] if partial and code.startswith(partial) else code
    if partial and not code.startswith(partial):
        prediction = ""  # the kept part already departs from the original: nothing sure to predict
    return ChatEdit(messages, prediction, fence, code.endswith("\n") or not code, partial, instruction_at)


def _nl(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"


_OPEN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^`\n]*$")


@dataclass
class FenceFilter:
    """Incremental: feed answer chunks, get the code inside the first fenced block.

    Prose before the opening fence and everything from the closing fence on are dropped. A line
    that could still turn out to be the closing fence (only whitespace and fence characters so
    far), and the newline before it, are held back until the next character decides; so the
    concatenated output is always a prefix of the final code and nothing shown is taken back.
    An answer with no fence at all is taken as bare code when it ends (`finish`).
    """

    keep_final_newline: bool = True  # emit the newline before the closing fence
    known_lines: frozenset = frozenset()  # stripped lines of the original code: an unfenced answer opening
    # with one of them is bare code, and streams from there (a closing fence alone still ends it)
    state: str = "before"  # before (looking for the opening fence) / inside / after
    _line: str = ""  # the current, unfinished line (before: whole pre-fence text kept in _raw)
    _raw: str = ""  # everything seen before the opening fence (for an answer with no fence)
    _fence: str = ""  # the opening fence's characters
    _held_newline: bool = False  # a newline inside the block not emitted yet (it may precede the fence)
    emitted: list[str] = field(default_factory=list)  # every non-empty chunk returned, in order

    def feed(self, chunk: str) -> str:
        out: list[str] = []
        for piece in re.split(r"(\n)", chunk):
            if not piece:
                continue
            if self.state == "before":
                self._raw += piece
                if piece == "\n":
                    if _OPEN.match(self._line):
                        self._fence = _OPEN.match(self._line).group(1)
                        self.state = "inside"
                    elif self._opens_bare_code():
                        self._fence, self.state = "```", "inside"  # bare code: this first line is code
                        out.append(self._line)
                        self._line, self._held_newline = "", True
                        continue
                    self._line = ""
                else:
                    self._line += piece
            elif self.state == "inside":
                self._inside(piece, out)
        text = "".join(out)
        if text:
            self.emitted.append(text)
        return text

    def _opens_bare_code(self) -> bool:
        """The answer's first non-blank line is a line of the original code (no fence, no prose)."""
        before = self._raw[: len(self._raw) - len(self._line) - 1]
        return not before.strip() and bool(self._line.strip()) and self._line.strip() in self.known_lines

    def _inside(self, piece: str, out: list[str]) -> None:
        if piece == "\n":
            if self._is_close(self._line):
                self.state = "after"
                if self._held_newline and self.keep_final_newline:
                    out.append("\n")
                self._held_newline = False
                return
            self._release(out)
            self._held_newline = True
            self._line = ""
            return
        self._line += piece
        if not self._could_close(self._line):
            self._release(out)

    def _release(self, out: list[str]) -> None:
        if self._held_newline:
            out.append("\n")
            self._held_newline = False
        if self._line:
            out.append(self._line)
            self._line = ""

    def _could_close(self, line: str) -> bool:
        c = self._fence[0]
        return all(ch in " \t" + c for ch in line)

    def _is_close(self, line: str) -> bool:
        stripped = line.strip(" \t")
        c = self._fence[0]
        return len(stripped) >= len(self._fence) and set(stripped) == {c} and len(line) - len(line.lstrip(" \t")) <= 3

    def finish(self) -> str:
        """The end of the answer: release what is still held (or the whole answer if unfenced)."""
        out: list[str] = []
        if self.state == "before":
            text = self._raw.strip("\n")
            if text and not _OPEN.match(self._line):
                out.append(text + ("\n" if self.keep_final_newline else ""))
        elif self.state == "inside":
            if self._line and self._is_close(self._line):  # a closing fence without a final newline
                if self._held_newline and self.keep_final_newline:
                    out.append("\n")
            else:
                self._release(out)
                if self._held_newline and self.keep_final_newline:
                    out.append("\n")
            self._held_newline = False
        self.state = "after"
        text = "".join(out)
        if text:
            self.emitted.append(text)
        return text


@dataclass
class EchoFilter:
    """After a redirect, drop a repeat of the kept partial output at the start of the continuation.

    Asked to go on from where the kept part stops, some models start again from the top. While the
    continuation is still a prefix of `partial`, it is held; if it turns out to repeat all of
    `partial`, the repeat is dropped; as soon as it departs from `partial`, it was a real
    continuation and is released as it is.
    """

    partial: str  # the output kept before the redirect
    _held: str = ""  # continuation text that so far matches the start of `partial`
    _decided: bool = False  # echo dropped, or continuation released: pass everything through

    def feed(self, chunk: str) -> str:
        if self._decided or not self.partial.strip():
            return chunk
        self._held += chunk
        if self.partial.startswith(self._held):
            return ""
        self._decided = True
        if self._held.startswith(self.partial):
            return self._held[len(self.partial):]
        held, self._held = self._held, ""
        return held

    def finish(self) -> str:
        if self._decided or not self._held:
            return ""
        self._decided = True
        return ""  # the continuation was nothing but (a start of) the kept part again
