"""One edit through the backend, as the OpenAI endpoints need it: text deltas, then an outcome.

Each run opens a session holding the code, streams the backend's events, and closes the session.
A stop (the client went away, a stop sequence matched) is the backend's stop: it computes no
further token. An error before the first token becomes an :class:`ApiError` (so the client gets
a status code, not a broken stream); one after it ends the stream with ``reason == "error"``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ...backends import Backend, DoneEvent, GenerateRequest
from ...decode.sampling import SamplingParams
from ...decode.session import Document, RequestError
from .edits import Block, Edit, Reindent, common_indent, dedent
from .errors import ApiError
from .target import locate

log = logging.getLogger("tessera.engine.api")

FINISH = {"eos": "stop", "stop": "stop", "length": "length", "redirect": "stop", "error": "error"}


@dataclass
class EditParams:
    max_tokens: int | None = None  # output budget in tokens; None = the context's room
    sampling: SamplingParams = field(default_factory=SamplingParams)  # greedy unless asked
    prediction: str | None = None  # the client's predicted output (the draft)
    stop: tuple[str, ...] = ()  # output ends before the first of these strings


@dataclass
class Outcome:
    finish_reason: str = "stop"  # OpenAI's: stop / length / error
    reason: str = "eos"  # the backend's: eos / stop / length / error
    prompt_tokens: int = 0  # tokens in the model's prompt
    cached_tokens: int = 0  # of those, how many came from the prefix cache
    completion_tokens: int = 0  # output tokens computed
    accepted_prediction_tokens: int = 0  # predicted tokens the model agreed with
    rejected_prediction_tokens: int = 0  # predicted tokens verified and thrown away
    sent_tokens: int = 0  # output tokens handed to the client before it went away
    client_gone: bool = False  # the client closed the stream or socket
    error: dict | None = None  # {code, message} when the run failed after its first token


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(18).replace('-', 'a').replace('_', 'b')}"


def api_error_of(err: dict) -> ApiError:
    if err.get("code") == "context_overflow":
        return ApiError(400, err.get("message", ""), code="context_length_exceeded", param="messages")
    return ApiError(500, err.get("message", "the engine failed"), "server_error", err.get("code") or "engine_error")


def edit_document(block: Block) -> tuple[Document, str]:
    """The document an edit runs on, and the indentation taken off its code.

    Code pasted from inside a class or function is edited at the left margin (where an edit model
    saw its training code) and its answer indented back; the selection is the whole code.
    """
    indent = common_indent(block.code)
    code = dedent(block.code, indent)
    return Document(code, block.filename, block.language or "python", (0, len(code))), indent


class EditRun:
    def __init__(self, backend: Backend, edit: Edit, params: EditParams, request_id: str):
        self.backend = backend
        self.edit = edit
        self.params = params
        self.request_id = request_id
        self.outcome = Outcome()
        self.notice: str | None = None  # the backend's note on the request (e.g. out of scope)
        self._events = None
        self._first = None
        self._reindent = Reindent("")
        self._session = f"api-{request_id}"
        self._around = ("", "")  # the code before and after a named definition that alone is edited
        self.tail = ""  # the code after that definition, to append once the run has ended

    async def start(self) -> None:
        """Open the session, start generating, and wait for the first event (errors raise here)."""
        document, indent = edit_document(self.edit.block)
        self._reindent = Reindent(indent)
        target = locate(document.text, self.edit.block.language, self.edit.instruction)
        p = self.params
        prediction = dedent(p.prediction, indent) if p.prediction is not None else None
        if target.span is not None:
            start, end = target.span
            before, after = self._around = document.text[:start], document.text[end:]
            if prediction is not None and len(prediction) >= len(before) + len(after) \
                    and prediction.startswith(before) and prediction.endswith(after):
                prediction = prediction[len(before):len(prediction) - len(after)]
        self.backend.open(self._session, document)
        try:
            self._events = self.backend.generate(GenerateRequest(
                self._session, self.request_id, target.instruction, target.span, p.max_tokens, p.sampling,
                prediction=prediction, whole=True))
            first = await anext(self._events)
            while first.type == "notice":
                self.notice = first.message
                first = await anext(self._events)
        except RequestError as exc:
            self.backend.close_session(self._session)
            raise ApiError(400, str(exc), code=exc.code) from None
        except BaseException:
            self.backend.close_session(self._session)
            if self._events is not None:
                await self._events.aclose()
            raise
        if isinstance(first, DoneEvent) and first.reason == "error":
            self.backend.close_session(self._session)
            raise api_error_of(first.stats.error.to_message() if first.stats.error else {})
        self._first = first

    def stop(self, client_gone: bool = False) -> None:
        self.outcome.client_gone = self.outcome.client_gone or client_gone
        self.backend.stop(self.request_id)

    async def deltas(self) -> AsyncIterator[str]:
        """The output text as it comes; `outcome` is complete when this ends.

        When only a named definition is edited, the code before it comes with the first piece and
        the code after it is left in `tail` (only when the model finished the definition), so the
        text plus `tail` is always the whole code and each piece carries model output.
        """
        out = self.outcome
        cut = False
        before, after = self._around
        pending = [self._first] if self._first is not None else []
        lead = self._reindent.push(before) if before else ""  # goes out with the first token's text
        text = lead
        try:
            while True:
                ev = pending.pop() if pending else await anext(self._events, None)
                if ev is None:
                    break
                if ev.type == "token" and not cut:
                    piece = self._reindent.push(ev.text)
                    if self.params.stop:
                        piece, cut = _until_stop(text, piece, self.params.stop)
                        if cut:
                            self.stop()
                    text += piece
                    if not out.client_gone:
                        out.sent_tokens += ev.count
                    if piece:
                        yield lead + piece
                        lead = ""
                elif ev.type == "done":
                    self._finish(ev, cut)
                    if after and ev.reason == "eos" and not cut:
                        self.tail = self._reindent.push(after)
                    if lead:  # no token carried it
                        yield lead
                        lead = ""
        finally:
            self.backend.close_session(self._session)
            if self._events is not None:
                await self._events.aclose()

    def _finish(self, done: DoneEvent, cut: bool) -> None:
        out, s = self.outcome, done.stats
        out.reason = done.reason
        out.finish_reason = "stop" if cut else FINISH.get(done.reason, "stop")
        out.prompt_tokens = int(s.prompt_tokens or 0)
        out.cached_tokens = int(s.cached_tokens or 0)
        out.completion_tokens = s.tokens_out
        if self.params.prediction is not None:
            out.accepted_prediction_tokens = s.draft_accepted_tokens
            out.rejected_prediction_tokens = s.draft_proposed_tokens - out.accepted_prediction_tokens
        out.error = s.error.to_message() if s.error else None
        log.info("%s %s: %d tokens computed, %d sent%s", self.request_id, done.reason, out.completion_tokens,
                 out.sent_tokens, " before the client closed" if out.client_gone else "")


def _until_stop(text: str, piece: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """The part of `piece` before the first stop sequence in text + piece, and whether one matched."""
    joined = text + piece
    hits = [joined.find(s, max(0, len(text) - len(s) + 1)) for s in stops]
    hits = [h for h in hits if h >= 0]
    if not hits:
        return piece, False
    return joined[len(text):min(hits)] if min(hits) >= len(text) else "", True
