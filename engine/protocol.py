"""The WebSocket protocol: JSON text frames, one object per frame, field ``type``.

Every client message is validated here, in one place, before the server acts on it; anything
malformed becomes a ``ProtocolError`` that the server turns into an ``error`` reply.

Client → engine: hello, open, update, measure, generate, stop, redirect, ping, close.
Engine → client: welcome, ready, measured, token, redirected, notice, tiles, done, error, pong.

Redirect keeps the request id: the engine emits ``redirected`` (where the new instruction took
effect, in output tokens and characters) and the same request's tokens continue; a redirect of
a finished (e.g. stopped) request continues it the same way and ends with a new ``done``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = 1
MAX_ID_CHARS = 128
MAX_INSTRUCTION_CHARS = 4000


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str, request: str | None = None):
        super().__init__(message)
        self.code = code
        self.request = request

    def to_message(self) -> dict:
        msg = {"type": "error", "code": self.code, "message": str(self)}
        if self.request is not None:
            msg["request"] = self.request
        return msg


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]  # accepted Python type(s) after json.loads
    required: bool = True  # must be present
    nullable: bool = False  # may be null


_ID = Field(str)
_SEL = Field(dict, required=False, nullable=True)

SCHEMAS: dict[str, dict[str, Field]] = {
    "hello": {"token": Field(str), "protocol": Field(int, False), "client": Field(str, False)},
    "open": {"session": _ID, "document": Field(dict), "model": Field(str, False, True),
             "profile": Field(str, False, True)},
    "update": {"session": _ID, "text": Field(str, False), "edits": Field(list, False),
               "selection": _SEL},
    "measure": {"session": _ID, "instruction": Field(str), "selection": _SEL},
    "generate": {"session": _ID, "request": _ID, "instruction": Field(str), "selection": _SEL,
                 "max_tokens": Field(int, False, True), "temperature": Field((int, float), False, True),
                 "top_p": Field((int, float), False, True), "seed": Field(int, False, True),
                 "speculate": Field(bool, False), "profile": Field(str, False, True),
                 "emulate": Field(str, False, True)},
    "stop": {"request": _ID},
    "redirect": {"request": _ID, "instruction": Field(str)},
    "ping": {"id": Field((str, int), False, True)},
    "close": {"session": _ID},
}


def _check_id(value: str, name: str) -> None:
    if not value or len(value) > MAX_ID_CHARS:
        raise ProtocolError("bad_request", f"'{name}' must be 1–{MAX_ID_CHARS} characters")


def selection_of(msg: dict) -> tuple[int, int] | None:
    sel = msg.get("selection")
    if sel is None:
        return None
    start, end = sel.get("start"), sel.get("end")
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
        raise ProtocolError("bad_request", "selection needs integer 'start' and 'end'", msg.get("request"))
    if start < 0 or end < start:
        raise ProtocolError("bad_selection", f"selection {start}:{end} is not a valid range", msg.get("request"))
    return start, end


def parse_client_message(raw: str | bytes) -> dict[str, Any]:
    """Decode and validate one client frame; raise ProtocolError with a clear message."""
    if isinstance(raw, bytes):
        raise ProtocolError("bad_frame", "binary frames are not accepted; send JSON text")
    try:
        msg = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_json", f"malformed JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(msg, dict):
        raise ProtocolError("bad_json", "each frame must be one JSON object")
    kind = msg.get("type")
    request = msg.get("request") if isinstance(msg.get("request"), str) else None
    if kind not in SCHEMAS:
        raise ProtocolError("unknown_type", f"unknown message type {kind!r}", request)
    for name, spec in SCHEMAS[kind].items():
        if name not in msg:
            if spec.required:
                raise ProtocolError("bad_request", f"'{kind}' needs field '{name}'", request)
            continue
        value = msg[name]
        if value is None and spec.nullable:
            continue
        kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = "/".join(k.__name__ for k in kinds)
            raise ProtocolError("bad_request", f"'{kind}.{name}' must be {names}", request)
    for name in ("session", "request"):
        if name in SCHEMAS[kind] and name in msg:
            _check_id(msg[name], name)
    if kind in ("generate", "redirect") and len(msg["instruction"]) > MAX_INSTRUCTION_CHARS:
        raise ProtocolError("bad_request", f"instruction longer than {MAX_INSTRUCTION_CHARS} characters", request)
    if kind == "open":
        doc = msg["document"]
        if not isinstance(doc.get("text"), str):
            raise ProtocolError("bad_request", "'open.document' needs a string 'text'")
        for key in ("path", "language"):
            if doc.get(key) is not None and not isinstance(doc[key], str):
                raise ProtocolError("bad_request", f"'open.document.{key}' must be a string")
    if kind == "update" and "text" not in msg and "edits" not in msg and "selection" not in msg:
        raise ProtocolError("bad_request", "'update' needs 'text', 'edits' or 'selection'")
    if kind == "generate":
        mt = msg.get("max_tokens")
        if mt is not None and mt < 1:
            raise ProtocolError("bad_request", "max_tokens must be at least 1", request)
    if "selection" in SCHEMAS[kind]:
        selection_of(msg)
    return msg


def apply_edits(text: str, edits: list) -> str:
    """Apply [{start, end, text}] character edits (each against the text as it is then)."""
    for e in edits:
        if not isinstance(e, dict):
            raise ProtocolError("bad_request", "each edit must be an object {start, end, text}")
        start, end, new = e.get("start"), e.get("end"), e.get("text")
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(new, str)):
            raise ProtocolError("bad_request", "each edit needs integer start/end and string text")
        if not (0 <= start <= end <= len(text)):
            raise ProtocolError("bad_selection", f"edit {start}:{end} is outside the document (0:{len(text)})")
        text = text[:start] + new + text[end:]
    return text
