"""What a generation yields: plain dataclasses shared by the server, the CLI and the tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class TokenEvent:
    request: str  # request id
    index: int  # output index of the first token in this event
    text: str  # decoded text of these tokens (never half a UTF-8 character)
    count: int  # tokens in this event (≥ 1; several when the consumer fell behind)
    t_compute_ms: float  # when the last token was computed, ms since the request arrived
    t_emit_ms: float  # when the event was handed to the consumer, ms since arrival
    draft: int = 0  # how many of these tokens came from accepted speculation
    type: str = "token"

    def to_message(self) -> dict:
        return asdict(self)


@dataclass
class RedirectEvent:
    request: str  # request id
    index: int  # output tokens produced before the redirect took effect
    chars: int  # output characters produced before the redirect
    instruction: str  # the new instruction
    type: str = "redirected"

    def to_message(self) -> dict:
        return asdict(self)


@dataclass
class NoticeEvent:
    request: str  # request id
    code: str  # e.g. "out_of_scope"
    message: str  # text for the user
    type: str = "notice"

    def to_message(self) -> dict:
        return asdict(self)


@dataclass
class DoneEvent:
    request: str  # request id
    reason: str  # eos / stop / length / redirect / error
    stats: dict = field(default_factory=dict)  # ttft_ms, tokens, tok_s, prefill_ms, ...
    text: str = ""  # the whole output of the request (all segments)
    type: str = "done"

    def to_message(self) -> dict:
        return asdict(self)


@dataclass
class ReadyEvent:
    session: str  # session id
    prompt_tokens: int  # tokens now held in the prefix cache for this session
    prewarm_ms: float  # time spent prefilling
    context_length: int  # the model's context window in tokens
    reused_tokens: int = 0  # of prompt_tokens, how many were already cached (not recomputed)
    type: str = "ready"

    def to_message(self) -> dict:
        return asdict(self)
