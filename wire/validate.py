"""Validation of every client frame, from one table derived from the message classes.

Anything malformed becomes a `ProtocolError` that the engine turns into an `error` reply. Types and
ranges are checked at this edge: strings must be valid Unicode (no lone surrogates), numbers are
bounded (huge integers, NaN and infinities are refused), nesting is bounded, and unknown fields
are refused rather than ignored.
"""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import MISSING, dataclass, fields, is_dataclass
from typing import Any

from . import messages
from .constants import (MAX_EDITS, MAX_ID_CHARS, MAX_INSTRUCTION_CHARS, MAX_PARTS, MAX_TOKENS_LIMIT,
                        TEMPERATURE_MAX, TEMPERATURE_MIN)

MAX_JSON_DEPTH = 8  # nesting of objects/arrays in one frame (the deepest message needs 3)
MAX_JSON_VALUES = 8 * MAX_EDITS + 64  # values (of any kind) in one frame
MAX_INT = 2**53  # integers are refused beyond ±this (JSON's safe integer range)
MAX_INT_DIGITS = 20  # longer integer literals are refused before conversion


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str, request: str | None = None):
        super().__init__(message)
        self.code = code
        self.request = request

    def to_message(self) -> dict:
        return messages.Error(self.code, str(self), self.request).to_message()


@dataclass(frozen=True)
class Field:
    kind: tuple[type, ...]  # accepted Python types after json.loads
    required: bool = True  # must be present
    nullable: bool = False  # may be null


def _field_of(f, hint: Any) -> Field:
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
        else (hint,)
    kinds: list[type] = []
    for arg in args:
        if arg is type(None):
            continue
        origin = typing.get_origin(arg) or arg
        if is_dataclass(origin) or origin is dict:
            kinds.append(dict)
        elif origin is float:
            kinds.extend((int, float))
        else:
            kinds.append(origin)
    required = f.default is MISSING and f.default_factory is MISSING
    nullable = type(None) in args and f.metadata.get("nullable", True)
    return Field(tuple(kinds), required, nullable)


def _schema(cls: type) -> dict[str, Field]:
    hints = typing.get_type_hints(cls)
    return {f.name: _field_of(f, hints[f.name]) for f in fields(cls)}


# The one table: message type → field → what it accepts.
SCHEMAS: dict[str, dict[str, Field]] = {cls.type: _schema(cls) for cls in messages.CLIENT_MESSAGES}
DOCUMENT_FIELDS = _schema(messages.Document)
SELECTION_FIELDS = _schema(messages.Selection)
EDIT_FIELDS = _schema(messages.Edit)

# A lone surrogate can only enter through a \\uD800–\\uDFFF escape: valid UTF-8 text frames hold none.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ProtocolError("bad_request", f"integer of {len(text)} digits is out of range")
    return int(text)


def _parse_constant(name: str) -> float:
    raise ProtocolError("bad_json", f"{name} is not a JSON number")


_decode = json.JSONDecoder(parse_int=_parse_int, parse_constant=_parse_constant).decode


def _check_tree(value: Any, check_strings: bool) -> None:
    """Bound the nesting; with `check_strings`, refuse strings that are not valid Unicode."""
    stack = [(value, 0)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_JSON_VALUES:
            raise ProtocolError("bad_request", f"more than {MAX_JSON_VALUES} values in one frame")
        if isinstance(node, dict):
            items = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            items = node
        elif isinstance(node, str) and check_strings:
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise ProtocolError("bad_request", "a string holds a lone surrogate (not valid Unicode)") from None
            continue
        elif isinstance(node, float) and not (-1e308 < node < 1e308):
            raise ProtocolError("bad_request", "numbers must be finite")
        elif isinstance(node, int) and not isinstance(node, bool) and abs(node) > MAX_INT:
            raise ProtocolError("bad_request", f"integers must be within ±{MAX_INT}")
        else:
            continue
        if depth >= MAX_JSON_DEPTH:
            raise ProtocolError("bad_json", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        stack.extend((item, depth + 1) for item in items)


def _check_id(value: str, name: str, request: str | None) -> None:
    if not value or len(value) > MAX_ID_CHARS:
        raise ProtocolError("bad_request", f"'{name}' must be 1–{MAX_ID_CHARS} characters", request)


def _check_fields(kind: str, where: str, msg: dict, schema: dict[str, Field], request: str | None) -> None:
    for name in msg:
        if name not in schema and not (name == "type" and where == kind):
            raise ProtocolError("bad_request", f"'{where}' has no field {name!r}", request)
    for name, spec in schema.items():
        if name not in msg:
            if spec.required:
                raise ProtocolError("bad_request", f"'{where}' needs field '{name}'", request)
            continue
        value = msg[name]
        if value is None and spec.nullable:
            continue
        if not isinstance(value, spec.kind) or (isinstance(value, bool) and bool not in spec.kind):
            names = "/".join(k.__name__ for k in spec.kind)
            raise ProtocolError("bad_request", f"'{where}.{name}' must be {names}", request)


def selection_of(msg: dict) -> tuple[int, int] | None:
    """The message's selection as (start, end), checked to be a range; None when it has none."""
    sel = msg.get("selection")
    if sel is None:
        return None
    request = msg.get("request")
    if set(sel) - set(SELECTION_FIELDS):
        raise ProtocolError("bad_request", "selection has only 'start' and 'end'", request)
    start, end = sel.get("start"), sel.get("end")
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
        raise ProtocolError("bad_request", "selection needs integer 'start' and 'end'", request)
    if start < 0 or end < start:
        raise ProtocolError("bad_selection", f"selection {start}:{end} is not a valid range", request)
    return start, end


def check_selection(selection: tuple[int, int] | None, length: int, request: str | None = None) -> tuple[int, int]:
    """`selection` (None: the whole text) as a range inside a text of `length` characters."""
    if selection is None:
        return 0, length
    start, end = selection
    if not 0 <= start <= end <= length:
        raise ProtocolError("bad_selection", f"selection {start}:{end} is outside the document (0:{length})",
                            request)
    return start, end


def _check_ranges(kind: str, msg: dict, request: str | None) -> None:
    def bad(text: str) -> ProtocolError:
        return ProtocolError("bad_request", text, request)

    if kind in ("generate", "redirect") and len(msg["instruction"]) > MAX_INSTRUCTION_CHARS:
        raise bad(f"instruction longer than {MAX_INSTRUCTION_CHARS} characters")
    if kind == "generate":
        mt = msg.get("max_tokens")
        if mt is not None and not 1 <= mt <= MAX_TOKENS_LIMIT:
            raise bad(f"max_tokens must be between 1 and {MAX_TOKENS_LIMIT}")
        t = msg.get("temperature")
        if t is not None and t != 0 and not TEMPERATURE_MIN <= t <= TEMPERATURE_MAX:
            raise bad(f"temperature must be 0 (greedy) or between {TEMPERATURE_MIN} and {TEMPERATURE_MAX}")
        p = msg.get("top_p")
        if p is not None and not 0 < p <= 1:
            raise bad("top_p must be in (0, 1]")
        seed = msg.get("seed")
        if seed is not None and not 0 <= seed < 2**63:
            raise bad("seed must be a non-negative integer below 2**63")
    if "parts" in msg and not 1 <= msg["parts"] <= MAX_PARTS:
        raise bad(f"parts must be between 1 and {MAX_PARTS}")
    if kind == "update":
        if "text" not in msg and "edits" not in msg and "selection" not in msg:
            raise bad("'update' needs 'text', 'edits' or 'selection'")
        if "parts" in msg and "text" not in msg:
            raise bad("'parts' goes with a full 'text'")
        if len(msg.get("edits") or ()) > MAX_EDITS:
            raise bad(f"at most {MAX_EDITS} edits per update; send the full text instead")
    if kind == "hello" and isinstance(msg.get("client"), str) and len(msg["client"]) > MAX_ID_CHARS:
        raise bad(f"'client' must be at most {MAX_ID_CHARS} characters")
    if isinstance(msg.get("id"), str) and len(msg["id"]) > MAX_ID_CHARS:
        raise bad(f"'id' must be at most {MAX_ID_CHARS} characters")


def parse_client_message(raw: str | bytes) -> dict[str, Any]:
    """Decode and validate one client frame; raise ProtocolError with a clear message."""
    if isinstance(raw, bytes):
        raise ProtocolError("bad_frame", "binary frames are not accepted; send JSON text")
    try:
        msg = _decode(raw)
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_json", f"malformed JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise ProtocolError("bad_json", f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer past Python's digit limit
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError("bad_json", f"malformed JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise ProtocolError("bad_json", "each frame must be one JSON object")
    _check_tree(msg, check_strings=_SURROGATE_ESCAPE.search(raw) is not None)
    kind = msg.get("type")
    request = msg.get("request") if isinstance(msg.get("request"), str) else None
    if not isinstance(kind, str) or kind not in SCHEMAS:
        shown = kind if isinstance(kind, str) and len(kind) <= MAX_ID_CHARS else type(kind).__name__
        raise ProtocolError("unknown_type", f"unknown message type {shown!r}", request)
    _check_fields(kind, kind, msg, SCHEMAS[kind], request)
    for name in ("session", "request"):
        if name in SCHEMAS[kind] and name in msg:
            _check_id(msg[name], name, request)
    if kind == "open":
        _check_fields(kind, "open.document", msg["document"], DOCUMENT_FIELDS, request)
    _check_ranges(kind, msg, request)
    if "selection" in SCHEMAS[kind]:
        selection_of(msg)
    return msg


def utf8_size(text: str) -> int:
    """Bytes of `text` in UTF-8 (cheap for ASCII, which most code is)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def apply_edits(text: str, edits: list) -> str:
    """Apply [{start, end, text}] character edits (each against the text as it is then)."""
    for e in edits:
        if not isinstance(e, dict) or set(e) - set(EDIT_FIELDS):
            raise ProtocolError("bad_request", "each edit must be an object {start, end, text}")
        start, end, new = e.get("start"), e.get("end"), e.get("text")
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(new, str)) \
                or isinstance(start, bool) or isinstance(end, bool):
            raise ProtocolError("bad_request", "each edit needs integer start/end and string text")
        if not (0 <= start <= end <= len(text)):
            raise ProtocolError("bad_selection", f"edit {start}:{end} is outside the document (0:{len(text)})")
        text = text[:start] + new + text[end:]
    return text


def document_parts(text: str, max_bytes: int) -> list[str]:
    """`text` cut into parts of at most `max_bytes` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return [text]
    parts, start = [], 0
    while start < len(data):
        end = min(start + max_bytes, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte: back up
            end -= 1
        parts.append(data[start:end].decode("utf-8", "surrogatepass"))
        start = end
    return parts
