"""The backend seam: what the server and the CLI talk to, whatever computes the tokens.

A backend holds documents (sessions) and streams edits of them. The native WebSocket protocol
(engine/serve/server.py) and the OpenAI-compatible API (engine/serve/oai/) are both written against the
:class:`Backend` protocol below and nothing else, so a new backend (a remote OpenAI-compatible
server, a replay of recorded responses) plugs in without touching either. The embedded ONNX
engine is the first implementation (engine/backends/onnx.py).

Contract, method by method:

- ``models()`` lists what the backend serves (``ModelInfo``; the first entry is the default) and
  ``describe()`` is the native ``welcome`` message's ``model`` object (at least ``name`` and
  ``context_length``; ``skills`` where the backend has them).
- ``open(session, document)`` starts or replaces a session; ``document(session)`` returns it
  (``RequestError("unknown_session")`` when there is none); ``update(session, text, selection)``
  replaces its text and remembers the selection; ``close_session(session)`` forgets it.
  ``prewarm(session)`` prepares what does not depend on the instruction (a prefix cache) and
  returns a ``ReadyEvent``; a backend without a cache returns one with ``prewarm_ms=0``.
  ``measure(session, instruction, selection)`` returns the native ``measured`` message (or an
  awaitable of it, when measuring takes work that must stay off the event loop).
- ``generate(request)`` validates the request **in the call** (raising ``RequestError`` with a
  protocol code such as ``bad_selection``, ``unknown_session``, ``duplicate_request``,
  ``bad_profile``) and returns an async iterator of events: optionally one ``NoticeEvent``
  first, then ``TokenEvent`` s (and ``RedirectEvent`` s), and always exactly one ``DoneEvent``
  last. Failures after the call end the stream with ``DoneEvent(reason="error")`` whose
  ``stats.error`` is a ``Problem(code, message)`` (codes: ``context_overflow``, ``engine_error``,
  ``upstream_error``, ...), never with an exception. Closing the iterator early (``aclose()``, or
  cancelling the task that iterates it) stops the request as ``stop`` does.
- ``DoneEvent.stats`` is a ``wire.DoneStats``: at least ``tokens_out`` (output tokens of this run),
  ``ttft_ms`` (None when no token came), ``decode_tok_s``, ``prompt_tokens``; a backend that
  speculates fills ``draft_accepted_tokens`` and ``draft_proposed_tokens``. Times are milliseconds
  since the request reached the backend.
- ``stop(request)`` makes a running request compute no further token and end with
  ``DoneEvent(reason="stop")``; it returns False when the request is not running.
  ``knows(request)`` says whether the id was ever seen (a late stop is not an error).
- ``redirect(request, instruction)`` steers a request, keeping its partial output as context. It
  returns None when the running stream takes the new instruction (that stream then yields a
  ``RedirectEvent`` and continues), or a new event iterator that continues a request that had
  already ended (it ends with its own ``DoneEvent``). ``RequestError("unknown_request")`` when
  the id was never seen.
- ``close()`` stops everything and frees the backend's resources; ``aclose()`` does the same on
  the event loop and also closes what needs it (a remote backend's connections).

All methods except ``prewarm``, ``aclose`` and the iterators are called on the event loop and must not block.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, Union, runtime_checkable

from ..decode.events import DoneEvent, NoticeEvent, ReadyEvent, RedirectEvent, TokenEvent
from ..decode.sampling import SamplingParams
from ..decode.session import Document, RequestError

Event = Union[TokenEvent, NoticeEvent, RedirectEvent, DoneEvent]
SideChannel = Callable[[dict], Awaitable[None]]  # sends one extra message to the client


@dataclass(frozen=True)
class ModelInfo:
    id: str  # the name clients pass as `model`
    context_length: int  # tokens the model holds, prompt and output together
    owned_by: str = "tessera"  # who serves it (OpenAI's `owned_by`)
    edit_only: bool = True  # True: takes an instruction plus code only, not free conversation
    created: int = 0  # unix seconds when the model was made available (0 = unknown)


@dataclass
class GenerateRequest:
    session: str  # session id given to `open`
    request: str  # request id, unique among the running requests
    instruction: str  # what to do with the selection
    selection: tuple[int, int] | None = None  # character offsets into the document, end exclusive; None = all
    max_tokens: int | None = None  # output budget in tokens; None = whatever the context holds
    sampling: SamplingParams = field(default_factory=SamplingParams)  # greedy by default
    speculate: bool = True  # draft from the predicted output (the selection, unless `prediction`)
    prediction: str | None = None  # predicted output text used as the draft instead of the selection
    profile: str | None = None  # hardware profile whose speed the stream is paced to; None = as computed
    emulate: str | None = None  # model shape the paced profile emulates; None = the loaded model's
    side: SideChannel | None = None  # where a backend sends extra messages (activity frames) while streaming
    whole: bool = False  # the model writes the whole selection: no focused windows (engine/decode/windows.py);
    # the OpenAI-compatible API asks so, since its usage and max_tokens count the model's own tokens

    @property
    def focused(self) -> bool:
        """Focused windows: the request is neither `whole` nor paced to emulated hardware (a demo or a
        study shows the emulated model writing the whole edit at its speed, not code passed on at once)."""
        return not self.whole and self.profile in (None, "", "local")


@runtime_checkable
class Backend(Protocol):
    def models(self) -> list[ModelInfo]: ...

    def describe(self) -> dict: ...

    def open(self, session: str, document: Document) -> None: ...

    def document(self, session: str) -> Document: ...

    def update(self, session: str, text: str, selection: tuple[int, int] | None) -> None: ...

    def close_session(self, session: str) -> None: ...

    async def prewarm(self, session: str) -> ReadyEvent: ...

    def measure(self, session: str, instruction: str, selection: tuple[int, int] | None) -> dict | Awaitable[dict]: ...

    def generate(self, request: GenerateRequest) -> AsyncIterator[Event]: ...

    def stop(self, request: str) -> bool: ...

    def knows(self, request: str) -> bool: ...

    def redirect(self, request: str, instruction: str) -> AsyncIterator[Event] | None: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


__all__ = ["Backend", "Document", "DoneEvent", "Event", "GenerateRequest", "ModelInfo", "NoticeEvent",
           "ReadyEvent", "RedirectEvent", "RequestError", "SideChannel", "TokenEvent"]
