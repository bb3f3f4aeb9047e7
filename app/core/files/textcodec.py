"""A file's bytes ⇄ the editor's text, byte-exact. No Qt.

The editor holds text whose every line break is "\\n" (Qt makes each break a block). `decode`
finds the encoding without guessing (a byte-order mark, a PEP 263 coding declaration, else strict
UTF-8), refuses binary content, and remembers each line's terminator ("\\r\\n", "\\r", "\\n",
U+2029); `encode` gives back the same bytes for every line the user did not change. Lines the user
adds take the file's most common terminator. A file that does not decode, or would not encode back
to the same bytes, is shown read-only with the reason: it is never re-encoded.
"""

from __future__ import annotations

import bisect
import codecs
import difflib
import io
import re
import tokenize
from collections import Counter
from dataclasses import dataclass

# Breaks that make a new block in Qt's document. U+2028 stays inside its line (Qt keeps it as a
# soft break in the block's text), as do form feeds and the other characters splitlines() breaks on.
_BREAK = re.compile("\r\n|\r|\n|\u2029")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Bytes that never occur in text files: C0 controls other than tab, LF, VT, FF, CR, ESC.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
BINARY_CONTROL_SHARE = 0.02  # more undecodable control bytes than this: binary, not text


class DecodeError(Exception):
    """The bytes are not text this editor can hold (binary); the message is meant for the user."""


class EncodeError(Exception):
    """The text cannot be written in the file's encoding; the message is meant for the user."""


@dataclass(frozen=True)
class TextFormat:
    """How a file's text is stored."""

    codec: str = "utf-8"  # Python codec of the body after the BOM, e.g. "utf-8", "utf-16-le", "iso-8859-1"
    bom: bytes = b""  # byte-order mark the file starts with, written back on save (b"" for none)
    newline: str = "\n"  # terminator for lines the user adds: the file's most common one
    declared: bool = False  # the codec comes from a PEP 263 coding declaration

    def describe(self) -> str:
        """E.g. "UTF-8 with BOM · CRLF", for the status line."""
        name = {"utf-8": "UTF-8", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE"}.get(self.codec, self.codec)
        if self.bom and self.codec == "utf-8":
            name += " with BOM"
        nl = {"\n": "LF", "\r\n": "CRLF", "\r": "CR", "\u2029": "U+2029"}[self.newline]
        return f"{name} · {nl}"


class LineEndings:
    """Each line's terminator, to put the file's own breaks back into the editor's "\\n" text."""

    def __init__(self, lines: list[str], terminators: list[str], newline: str) -> None:
        self.newline = newline  # for lines the user adds
        self.uniform = all(t == newline for t in terminators[:-1])
        # Only a file with mixed breaks needs its lines: to tell which lines kept their terminator.
        self._lines = [] if self.uniform else lines
        self._terminators = [] if self.uniform else terminators  # one per line; the last is ""

    @classmethod
    def split(cls, text: str) -> tuple[str, LineEndings]:
        """(the editor's text, the endings to restore it) for a decoded file's text."""
        terminators = _BREAK.findall(text)
        counts = Counter(terminators)
        newline = max(counts, key=lambda t: (counts[t], -terminators.index(t))) if counts else "\n"
        if all(t == "\n" for t in terminators):
            return text, cls([], [], newline)
        editor_text = _BREAK.sub("\n", text)
        return editor_text, cls(editor_text.split("\n"), terminators + [""], newline)

    def restore(self, editor_text: str) -> str:
        """The file's text for the editor's text: untouched lines keep their own terminator."""
        if self.uniform:
            return editor_text if self.newline == "\n" else editor_text.replace("\n", self.newline)
        new = editor_text.split("\n")
        old, ends = self._lines, self._terminators
        # Edits are local: match the common head and tail, diff only the middle.
        head = 0
        while head < min(len(old), len(new)) and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        out = [ends[i] for i in range(head)]
        middle = difflib.SequenceMatcher(None, old[head:len(old) - tail], new[head:len(new) - tail],
                                         autojunk=False)
        for _op, i1, i2, j1, j2 in middle.get_opcodes():
            # An equal or edited line keeps its terminator, position by position; added lines
            # take the file's usual one.
            for k in range(j2 - j1):
                out.append(ends[head + i1 + k] if i1 + k < i2 else self.newline)
        out += ends[len(old) - tail:]
        # Only the last line ends without a break (an old last line may now be followed by more).
        out = [t or self.newline for t in out[:-1]] + [""]
        return "".join(line + end for line, end in zip(new, out))


@dataclass
class Decoded:
    """A file opened for the editor."""

    text: str  # the editor's text: every line break is "\n"
    fmt: TextFormat  # how to write it back
    endings: LineEndings  # each line's own terminator
    read_only_reason: str | None = None  # why it must not be saved over (None: editable)


def decode(data: bytes) -> Decoded:
    """The editor's text for a file's bytes; DecodeError for binary content. See the module doc."""
    bom, codec, declared = b"", "utf-8", False
    for mark, name in _BOMS:
        if data.startswith(mark):
            bom, codec = mark, name
            break
    body = data[len(bom):]
    if not bom:
        if b"\0" in body:
            raise DecodeError("This looks like a binary file (it contains NUL bytes), not text.")
        declaration = _declared_codec(body)
        if isinstance(declaration, DecodeError):
            return _read_only(body, codec, declaration.args[0])
        if declaration is not None:
            codec, declared = declaration, True
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        controls = sum(body.count(bytes([b])) for b in _CONTROL)
        if controls > BINARY_CONTROL_SHARE * len(body):
            raise DecodeError("This looks like a binary file, not text.") from None
        byte = body[exc.start]
        where = f"byte 0x{byte:02X} at offset {exc.start + len(bom)}"
        hint = "" if declared or bom else " and declares no encoding (a PEP 263 `# coding:` line)"
        return _read_only(body, codec, f"not valid {_codec_name(codec)} ({where}){hint}")
    if "\0" in text:
        raise DecodeError("This looks like a binary file (it contains NUL characters), not text.")
    if text.encode(codec) != body:
        return _read_only(body, codec, f"{_codec_name(codec)} would not write its bytes back unchanged")
    # Qt drops a U+FEFF at the very start of a document: more byte-order marks, kept with the first.
    body_start = len(text) - len(text.lstrip("\ufeff"))
    bom += ("\ufeff" * body_start).encode(codec)
    editor_text, endings = LineEndings.split(text[body_start:])
    return Decoded(editor_text, TextFormat(codec, bom, endings.newline, declared), endings)


def encode(editor_text: str, fmt: TextFormat, endings: LineEndings) -> bytes:
    """The file's bytes for the editor's text; EncodeError names the first character that won't fit."""
    text = endings.restore(editor_text)
    try:
        return fmt.bom + text.encode(fmt.codec)
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        line = text.count("\n", 0, exc.start) + 1
        raise EncodeError(
            f"{char!r} (U+{ord(char):04X}, line {line}) cannot be written in {_codec_name(fmt.codec)}, "
            "this file's encoding. Remove it, or change the coding declaration.") from None


def new_file() -> Decoded:
    """An empty document: UTF-8, LF."""
    return Decoded("", TextFormat(), LineEndings([], [], "\n"))


def _declared_codec(body: bytes) -> str | None | DecodeError:
    """The PEP 263 codec declared in the first two lines, None if none, DecodeError if unusable."""
    if b"coding" not in body[:1024]:
        return None
    head = body.split(b"\n", 2)[:2]
    try:
        codec, _lines = tokenize.detect_encoding(io.BytesIO(b"\n".join(head) + b"\n").readline)
    except SyntaxError as exc:
        return DecodeError(f"its coding declaration cannot be used ({exc.msg})")
    name = codecs.lookup(codec).name
    return None if name == "utf-8" else name


def _read_only(body: bytes, codec: str, reason: str) -> Decoded:
    try:
        text = body.decode(codec, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    editor_text, endings = LineEndings.split(text)
    return Decoded(editor_text, TextFormat(codec, b"", endings.newline), endings,
                   f"This file is {reason}. It is shown read-only (� marks bytes that do not "
                   "decode) and is never re-encoded.")


def _codec_name(codec: str) -> str:
    return {"utf-8": "UTF-8", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE"}.get(codec, codec)


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class Utf16Offsets:
    """Python offsets (code points) ⇄ Qt positions (UTF-16 units) in one text: each character
    beyond U+FFFF is two units in Qt and one in Python."""

    def __init__(self, text: str) -> None:
        astral = [m.start() for m in _ASTRAL.finditer(text)]
        self._qt = [offset + i for i, offset in enumerate(astral)]  # Qt position of each such char
        self._py = astral

    def to_qt(self, offset: int) -> int:
        return offset + bisect.bisect_left(self._py, offset)

    def from_qt(self, position: int) -> int:
        return position - bisect.bisect_left(self._qt, position)


def has_astral(text: str) -> bool:
    return _ASTRAL.search(text) is not None


IDENTITY = Utf16Offsets("")  # for texts without characters beyond U+FFFF
