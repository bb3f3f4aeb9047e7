"""One dataclass per message of the native protocol, both directions (JSON text frames, field `type`).

Client → engine messages are also the validation table: `wire.validate` reads each field's type,
whether it has a default, and whether it may be null (`nullable`) from the classes below.

Every message the engine sends in answer to another echoes that message's id: `id` for direct
replies (welcome, ready, measured, pong, error), `request` for a generation's events (token,
redirected, notice, tiles, done) and for errors about a request.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

from .stats import DoneStats, Problem


def optional(nullable: bool = True, default: Any = None) -> Any:
    """A field a client may leave out; with `nullable=False` it may not be sent as null either."""
    return field(default=default, metadata={"nullable": nullable})


class Message:
    """Base of every message: `type` names it on the wire; `to_message()` gives the JSON object."""

    type: ClassVar[str]

    def to_message(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.default is None:
                continue
            out[f.name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if hasattr(value, "to_message"):
        return value.to_message()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# -- parts of client messages ---------------------------------------------------------------------
@dataclass
class Selection:
    """Character offsets into the document text, end exclusive."""

    start: int  # first character, ≥ 0
    end: int  # one past the last character, ≥ start

    def to_message(self) -> dict[str, int]:
        return {"start": int(self.start), "end": int(self.end)}


@dataclass
class Document:
    text: str  # the whole text, or its first part when the message announces `parts`
    path: str | None = None  # where the user's file lives (for the prompt and logs)
    language: str | None = None  # e.g. "python"; None: python

    def to_message(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.path is not None:
            out["path"] = self.path
        if self.language is not None:
            out["language"] = self.language
        return out


@dataclass
class Edit:
    start: int  # first character replaced
    end: int  # one past the last character replaced
    text: str  # the new text

    def to_message(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


# -- client → engine ------------------------------------------------------------------------------
@dataclass
class Hello(Message):
    type: ClassVar[str] = "hello"
    token: str  # the engine's token (compared in constant time)
    protocol: int | None = optional(nullable=False)  # the version the client speaks
    client: str | None = None  # the client's name, for logs
    id: str | None = None  # echoed by `welcome`


@dataclass
class Open(Message):
    type: ClassVar[str] = "open"
    session: str  # the client's id for this document
    document: Document  # its text (or first part), path and language
    model: str | None = None  # reserved: the engine serves the model it loaded
    profile: str | None = None  # hardware profile for the prewarm
    parts: int | None = optional(nullable=False)  # parts the text comes in (N−1 `append` follow)
    id: str | None = None  # echoed by `ready` (or `error`)


@dataclass
class Append(Message):
    type: ClassVar[str] = "append"
    session: str  # the session whose document is arriving in parts
    text: str  # the next part
    id: str | None = None  # echoed by an `error` about this part


@dataclass
class Update(Message):
    type: ClassVar[str] = "update"
    session: str  # an open session
    text: str | None = optional(nullable=False)  # the whole new text (or its first part)
    edits: list[Edit] | None = optional(nullable=False)  # or character edits, applied in order
    selection: Selection | None = None  # the code about to be edited (prefilled too)
    parts: int | None = optional(nullable=False)  # parts the text comes in (N−1 `append` follow)
    id: str | None = None  # echoed by `ready` (or `error`)


@dataclass
class Measure(Message):
    type: ClassVar[str] = "measure"
    session: str  # an open session
    instruction: str  # the would-be instruction
    selection: Selection | None = None  # the would-be target; None: the whole document
    id: str | None = None  # echoed by `measured` (or `error`)


@dataclass
class Generate(Message):
    type: ClassVar[str] = "generate"
    session: str  # an open session
    request: str  # the client's id for this request: every event of it carries this id
    instruction: str  # what to do
    selection: Selection | None = None  # the code to edit; None: the whole document
    max_tokens: int | None = None  # output budget, tokens
    temperature: float | None = None  # 0 (greedy) or TEMPERATURE_MIN..TEMPERATURE_MAX
    top_p: float | None = None  # nucleus sampling mass, (0, 1]
    seed: int | None = None  # sampling seed
    speculate: bool | None = optional(nullable=False)  # predicted-output speculation (default on)
    whole: bool | None = optional(nullable=False)  # the model writes the whole target (no focused windows)
    profile: str | None = None  # hardware profile that paces the stream
    emulate: str | None = None  # model shape the profile paces


@dataclass
class Stop(Message):
    type: ClassVar[str] = "stop"
    request: str  # the request to stop before its next token


@dataclass
class Redirect(Message):
    type: ClassVar[str] = "redirect"
    request: str  # the request to continue
    instruction: str  # its new instruction


@dataclass
class Ping(Message):
    type: ClassVar[str] = "ping"
    id: str | int | None = None  # echoed by `pong`


@dataclass
class Close(Message):
    type: ClassVar[str] = "close"
    session: str  # the session to forget (its requests stop)
    id: str | None = None  # echoed by an `error`, if any


CLIENT_MESSAGES: tuple[type[Message], ...] = (Hello, Open, Append, Update, Measure, Generate, Stop, Redirect,
                                              Ping, Close)


# -- engine → client ------------------------------------------------------------------------------
@dataclass
class Welcome(Message):
    type: ClassVar[str] = "welcome"
    protocol: int  # the version the engine speaks
    model: dict[str, Any]  # name, context_length, skills, backend, ... of what serves
    profiles: list[Any]  # hardware profiles `generate` may name
    emulate_models: list[dict[str, Any]]  # model shapes a profile may pace
    loop: str  # "uvloop" or "asyncio" (diagnostics)
    id: str | None = None  # the hello's id


@dataclass
class Ready(Message):
    type: ClassVar[str] = "ready"
    session: str  # session id
    prompt_tokens: int  # tokens now held in the prefix cache for this session
    prewarm_ms: float  # time spent prefilling
    context_length: int  # the model's context window in tokens
    reused_tokens: int = 0  # of prompt_tokens, how many were already cached (not recomputed)
    id: str | None = None  # the open/update's id


@dataclass
class Measured(Message):
    type: ClassVar[str] = "measured"
    session: str  # session id
    prompt_tokens: int  # tokens of the would-be prompt (a lower bound when `fits` is false early)
    source_tokens: int  # of them, the target code's
    context_length: int  # the model's context window in tokens
    fits: bool  # prompt and room for the output fit the context (in windows, when `windows` is set)
    windows: int | None = None  # a long target the engine would edit in this many windows
    refusal: str | None = None  # why a long target cannot be cut into windows
    id: str | None = None  # the measure's id


@dataclass
class Token(Message):
    type: ClassVar[str] = "token"
    request: str  # request id
    index: int  # output index of the first token in this event
    text: str  # decoded text of these tokens (never half a UTF-8 character)
    count: int  # tokens in this event (≥ 1; several when the consumer fell behind; 0: closing text)
    t_compute_ms: float  # when the last token was computed, ms since the request arrived
    t_emit_ms: float  # when the event was handed to the consumer, ms since arrival
    draft: int = 0  # how many of these tokens came from accepted speculation

    def to_message(self) -> dict[str, Any]:  # the engine's most frequent frame: no field walk
        return {"type": "token", "request": self.request, "index": self.index, "text": self.text,
                "count": self.count, "t_compute_ms": self.t_compute_ms, "t_emit_ms": self.t_emit_ms,
                "draft": self.draft}


@dataclass
class Redirected(Message):
    type: ClassVar[str] = "redirected"
    request: str  # request id
    index: int  # output tokens produced before the redirect took effect
    chars: int  # output characters produced before the redirect
    instruction: str  # the new instruction


@dataclass
class Notice(Message):
    type: ClassVar[str] = "notice"
    request: str  # request id
    code: str  # e.g. "out_of_scope"
    message: str  # text for the user


@dataclass
class Tiles(Message):
    type: ClassVar[str] = "tiles"
    request: str  # request id
    layout: dict[str, Any] | None = None  # the first frame: tile regions of the layers
    emulation: dict[str, Any] | None = None  # with the layout: the emulation's summary
    frame: dict[str, Any] | None = None  # later frames: activity at the emulated time


@dataclass
class Done(Message):
    type: ClassVar[str] = "done"
    request: str  # request id
    reason: str  # a DoneReason value
    stats: DoneStats = field(default_factory=DoneStats)  # what the run cost
    text: str = ""  # the whole output of the request (all segments)

    def __post_init__(self) -> None:
        if isinstance(self.stats, dict):  # built from keyword values: checked against DoneStats' names
            values = dict(self.stats)
            for key in ("error", "warning"):
                if isinstance(values.get(key), dict):
                    values[key] = Problem(**values[key])
            self.stats = DoneStats(**values)


@dataclass
class Error(Message):
    type: ClassVar[str] = "error"
    code: str  # machine-readable, e.g. "bad_request", "unknown_session", "document_too_large"
    message: str  # for the user
    request: str | None = None  # the request it concerns
    session: str | None = None  # the session it concerns
    id: str | None = None  # the id of the message it answers


@dataclass
class Pong(Message):
    type: ClassVar[str] = "pong"
    id: str | int | None = None  # the ping's id

    def to_message(self) -> dict[str, Any]:
        return {"type": "pong", "id": self.id}


ENGINE_MESSAGES: tuple[type[Message], ...] = (Welcome, Ready, Measured, Token, Redirected, Notice, Tiles, Done,
                                              Error, Pong)


def required_fields(cls: type) -> list[str]:
    return [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
