"""The embedded ONNX engine (engine/decode/session.py) behind the backend seam."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from ..decode.job import EditJob
from ..decode.events import DoneEvent, ReadyEvent
from ..decode.session import Document, Engine, RequestError
from .edit_stream import stream_edit
from . import Event, GenerateRequest, ModelInfo, SideChannel

# (engine, profile, job, side channel, emulated model) → (pace(n) → awaitable | None, stats() → DoneStats fields)
PacingFactory = Callable[..., tuple[Callable | None, Callable[[], dict] | None]]


@dataclass(frozen=True)
class PacingAsked:
    """What a request asked of the pacer; a redirect of the request keeps it."""

    profile: str | None = None  # hardware profile (or ``timing:`` numbers) to pace to; None = as computed
    emulate: str | None = None  # model shape the profile emulates; None = the loaded model's
    side: SideChannel | None = None  # where the pacer sends activity frames


NOT_PACED = PacingAsked()


class OnnxBackend:
    """One loaded ONNX model; `pacing` (engine/serve/pacing.py) paces requests that name a profile."""

    def __init__(self, engine: Engine, pacing: PacingFactory | None = None):
        self.engine = engine
        self.pacing = pacing
        self._asked: dict[str, PacingAsked] = {}  # request id → the pacing it asked for (paced requests only)
        self._created = int(time.time())

    # -- models ---------------------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        spec = self.engine.spec
        return [ModelInfo(spec.name, spec.context_length, edit_only=True, created=self._created)]

    def describe(self) -> dict:
        return self.engine.spec.describe()

    # -- sessions -------------------------------------------------------------------------
    def open(self, session: str, document: Document) -> None:
        self.engine.open(session, document)

    def document(self, session: str) -> Document:
        return self.engine.session(session).document

    def update(self, session: str, text: str, selection: tuple[int, int] | None) -> None:
        doc = self.engine.session(session).document
        doc.text = text
        doc.selection = selection

    def close_session(self, session: str) -> None:
        if session in self.engine.sessions:  # closing twice is harmless
            for request in self.engine.sessions[session].jobs:
                self._asked.pop(request, None)
            self.engine.close_session(session)

    async def prewarm(self, session: str) -> ReadyEvent:
        return await self.engine.prewarm(session)

    async def measure(self, session: str, instruction: str, selection: tuple[int, int] | None) -> dict:
        return await self.engine.measure(session, instruction, selection)

    # -- requests -------------------------------------------------------------------------
    def generate(self, request: GenerateRequest) -> AsyncIterator[Event]:
        job = self.engine.make_job(request.session, request.request, request.instruction, request.selection,
                                   request.max_tokens, request.sampling, request.speculate,
                                   prediction=request.prediction, focused=request.focused)
        self.ask_pacing(request)
        try:
            return self._run(job)
        except RequestError:
            self.engine.unregister(job)  # registered by make_job, but no stream will run it
            raise

    def ask_pacing(self, request: GenerateRequest) -> None:
        """Remember the pacing `request` asks for, for its stream and any later redirect of it."""
        if request.profile:
            self._asked[request.request] = PacingAsked(request.profile, request.emulate, request.side)
        else:
            self._asked.pop(request.request, None)

    def pacing_for(self, job: EditJob) -> tuple[Callable | None, Callable[[], dict] | None]:
        """(pace(n) → awaitable | None, stats() → DoneStats fields) for a run of `job`; (None, None) unpaced."""
        asked = self._asked.get(job.request_id, NOT_PACED)
        if self.pacing is None or not asked.profile:
            return None, None
        try:
            return self.pacing(self.engine, asked.profile, job, asked.side or _drop, asked.emulate)
        except (ValueError, KeyError) as exc:
            self._asked.pop(job.request_id, None)
            raise RequestError("bad_profile", f"cannot emulate {asked.profile!r}: {exc}") from None

    def _run(self, job: EditJob) -> AsyncIterator[Event]:
        pace, pace_stats = self.pacing_for(job)
        return self._stream(job, pace, pace_stats)

    async def _stream(self, job: EditJob, pace, pace_stats) -> AsyncIterator[Event]:
        async for ev in stream_edit(self.engine, job, pace):
            if isinstance(ev, DoneEvent) and pace_stats is not None:
                ev.stats.update(**pace_stats())
            yield ev

    def stop(self, request: str) -> bool:
        return self.engine.stop(request)

    def knows(self, request: str) -> bool:
        return self.engine.find_job(request) is not None

    def redirect(self, request: str, instruction: str) -> AsyncIterator[Event] | None:
        job = self.engine.redirect(request, instruction)
        return None if job is None else self._run(job)

    def close(self) -> None:
        self.engine.close()

    async def aclose(self) -> None:
        self.close()  # nothing of the engine's needs the event loop to close


async def _drop(msg: dict) -> None:
    """The side channel of a request that has none: extra messages go nowhere."""
