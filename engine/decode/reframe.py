"""The target as the model sees it, and the model's output put back in the document's terms.

The bundled model learned edits on whole functions at column 0, ASCII, ``\\n`` line ends, no
surrounding blank lines. Real selections are methods and nested functions, start at column 0 of an
indented line or at the keyword, and hold accents, CJK or emoji. So, as inline-edit tools do, the
engine normalises the target before the model and restores the output as it streams:

- indentation: the common leading whitespace of the non-blank lines (counting the whitespace in
  front of the selection on its first line) is removed; every output line that is not empty gets it
  back as soon as its first character arrives, so the live diff stays live;
- non-ASCII text: each distinct run of non-ASCII characters becomes an ASCII placeholder (a marker
  absent from the code plus two letters) that the model copies like any identifier part; the output
  turns placeholders back into the original characters byte for byte;
- line ends ``\\r\\n`` become ``\\n`` and come back; blank lines around the code are kept aside and
  emitted as they were.

A model trained on indented code would not need this, but the normalisation costs nothing per
token and serves every model, including ones the project did not train.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_MARKERS = ("Qz", "Zq", "Jq", "Qj", "Vq", "Xq", "Qx", "Zx")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Frame:
    model_code: str  # the target as the model sees it (dedented, ASCII, \n line ends, no outer blank lines)
    indent: str = ""  # whitespace removed from the start of every non-blank line
    lead: str = ""  # whitespace before the selection on its first line (in the document, not in the output)
    first_in_place: bool = False  # the first line starts inside a document line: it gets no indent of its own
    head: str = ""  # blank lines at the start of the selection, emitted unchanged first
    tail: str = ""  # whitespace after the last non-blank character, emitted unchanged at the end
    newline: str = "\n"  # the document's line end inside the selection
    marker: str = ""  # placeholder prefix ("" when the target is ASCII)
    table: tuple[tuple[str, str], ...] = ()  # (placeholder, original text) pairs
    blanks: tuple[str, ...] = ()  # the whitespace of each blank line inside the target, in order

    def encode_text(self, text: str) -> str:
        """Another text (the instruction) with the target's non-ASCII runs as their placeholders."""
        for ph, orig in self.table:
            text = text.replace(orig, ph)
        return text

    def encode_prediction(self, text: str) -> str:
        """A client's predicted output (document terms) in the model's terms, as far as it lines up."""
        text = text.replace("\r\n", "\n").strip("\n").rstrip()
        lines = [ln[len(self.indent):] if ln.startswith(self.indent) else ln.lstrip(" \t") for ln in text.split("\n")]
        return self.encode_text("\n".join(lines))

    def restorer(self) -> "Restorer":
        return Restorer(self)


def _placeholder(marker: str, i: int) -> str:
    return marker + _LETTERS[i // 26 % 26] + _LETTERS[i % 26]


def frame_for(text: str, start: int, end: int, instruction: str = "") -> Frame:
    """Normalise ``text[start:end]`` (see the module docstring)."""
    code = text[start:end]
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    lead = before if before.strip(" \t") == "" else ""
    newline = "\r\n" if "\r\n" in code else "\n"
    body = code.replace("\r\n", "\n") if newline == "\r\n" else code
    stripped = body.lstrip(" \t\n")
    head = body[:len(body) - len(stripped)]
    head = head[:head.rfind("\n") + 1]  # whole blank lines only; the first line's indent stays
    body = body[len(head):]
    core = body.rstrip()
    tail = body[len(core):]
    if not core:
        return Frame(code, newline="\n")
    first_virtual = (lead if not head else "") + core
    lines = first_virtual.split("\n")
    if before and not lead and not head:  # selection starts mid-line: its first line keeps its place
        indents = [ln[:len(ln) - len(ln.lstrip(" \t"))] for ln in lines[1:] if ln.strip()]
    else:
        indents = [ln[:len(ln) - len(ln.lstrip(" \t"))] for ln in lines if ln.strip()]
    indent = os.path.commonprefix(indents) if indents else ""
    skip = lead if not head else ""
    out = []
    for i, ln in enumerate(lines):
        if i == 0 and before and not lead and not head:
            out.append(ln)
        elif i > 0 and not ln.strip():  # blank lines reach the model empty; `blanks` restores them
            out.append("")
        elif ln.startswith(indent):
            out.append(ln[len(indent):])
        else:  # a whitespace-only line shorter than the indent
            out.append("")
    model_code = "\n".join(out)
    marker, table = "", ()
    runs = list(dict.fromkeys(_NON_ASCII.findall(model_code)))
    if runs:
        low = (code + instruction).lower()
        marker = next((m for m in _MARKERS if m.lower() not in low), "Qzq")
        table = tuple((_placeholder(marker, i), r) for i, r in enumerate(runs))
        model_code = _NON_ASCII.sub(lambda m: _placeholder(marker, runs.index(m.group())), model_code)
    head, tail = head.replace("\n", newline), tail.replace("\n", newline)
    blanks = tuple(ln for ln in core.split("\n")[1:] if not ln.strip())
    return Frame(model_code, indent, skip, bool(before) and not head, head, tail, newline, marker, table, blanks)


@dataclass
class Restorer:
    """Streams model output back into document text: placeholders, indentation, line ends."""

    frame: Frame
    _held: str = ""  # output text that may be the start of a placeholder
    _at_line_start: bool = True  # the next character begins an output line
    _skip: str = ""  # what is left of the first line's whitespace that lies before the selection
    _first: bool = False  # inside the selection's first line, which starts where the selection starts
    _started: bool = False
    _blank: int = 0  # blank lines of the target given back so far
    _names: dict = field(default_factory=dict)
    _trailing: str = ""  # whitespace at the end of the output so far, held until more text follows

    def __post_init__(self) -> None:
        self._skip = self.frame.lead
        self._first = self.frame.first_in_place
        self._names = dict(self.frame.table)

    def push(self, text: str) -> str:
        f = self.frame
        if f.marker:
            text = self._held + text
            cut = _hold_point(text, f.marker)
            text, self._held = text[:cut], text[cut:]
            text = self._unplace(text)
        return self._start(text) + self._hold_trailing(self._reindent(text)) if text else ""

    def _hold_trailing(self, out: str) -> str:
        """`out` less its trailing whitespace, which waits for more text: at the end of the output it
        is the model's own and is dropped (the target's own trailing whitespace is `frame.tail`)."""
        if not self.frame.model_code.strip():
            return out  # a target of whitespace only comes back as it is
        body = out.rstrip(" \t\r\n")
        if not body:
            self._trailing += out
            return ""
        held, self._trailing = self._trailing, out[len(body):]
        return held + body

    def finish(self, complete: bool) -> str:
        """The rest: held text, and (when the output ended normally) the target's trailing whitespace
        in place of the output's own.

        An empty output stays empty (nothing around it is given back).
        """
        held, self._held = self._unplace(self._held), ""
        out = self._start(held) + self._hold_trailing(self._reindent(held)) if held else ""
        trailing, self._trailing = self._trailing, ""
        if complete and self._started:
            return out + self.frame.tail  # the model's trailing blank lines are not the target's
        return out + trailing

    def _start(self, text: str) -> str:
        if self._started or not text:
            return ""
        self._started = True
        return self.frame.head

    def _unplace(self, text: str) -> str:
        m = self.frame.marker
        if not m or m.lower() not in text.lower():
            return text
        return re.sub(re.escape(m) + "[a-z]{2}", self._original, text, flags=re.IGNORECASE)

    def _original(self, g: re.Match) -> str:
        """The text a placeholder stands for; a lower-cased copy (a docstring's words) comes back lower-cased."""
        found = g.group()
        key = self.frame.marker + found[len(self.frame.marker):].lower()
        orig = self._names.get(key)
        if orig is None:
            return found
        if found == key:
            return orig
        return orig.lower() if found.islower() else orig.upper() if found.isupper() else orig

    def _reindent(self, text: str) -> str:
        f = self.frame
        parts = []
        for ch in text:
            if ch == "\n":
                if self._at_line_start and not self._first and self._blank < len(f.blanks):
                    parts.append(f.blanks[self._blank])  # an empty line: as it was in the target
                    self._blank += 1
                self._first = False
                self._at_line_start = True
                parts.append(f.newline)
                continue
            if self._first:  # the selection's first line: what lies before the selection is not emitted
                if self._at_line_start:
                    self._at_line_start = False
                    if f.lead:
                        self._skip_into(f.indent, parts)
                self._skip_into(ch, parts)
                continue
            if self._at_line_start:
                self._at_line_start = False
                parts.append(f.indent)
            parts.append(ch)
        return "".join(parts)

    def _skip_into(self, chunk: str, parts: list[str]) -> None:
        for c in chunk:
            if self._skip and c == self._skip[0]:
                self._skip = self._skip[1:]
                continue
            self._skip = ""
            parts.append(c)


def _hold_point(text: str, marker: str) -> int:
    """Where to cut `text` so that a placeholder split across pieces is held back whole."""
    full = len(marker) + 2
    for k in range(min(full - 1, len(text)), 0, -1):
        tail = text[-k:]
        tail, marker_l = tail.lower(), marker.lower()
        if marker_l.startswith(tail) or (tail.startswith(marker_l) and tail[len(marker):].isalpha()):
            return len(text) - k
    return len(text)
