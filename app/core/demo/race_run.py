"""Runs a race on one engine connection: one `generate` per lane, sent back to back. No Qt.

The engine decodes on one worker thread, so the lanes' real computations run one after another;
each lane's pacer counts from its own request's arrival, and the real model is far faster than
any emulated pace, so every lane is released on its own schedule. Where compute falls behind
(a very fast lane queued behind another's compute), the engine reports the lag in `done` and the
lane shows it.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any, Callable

from app.core.demo.race import LaneProgress, LaneSpec, send_order
from app.core.link.client import EngineClient, EngineError, RequestStream
from wire import DoneStats

_sessions = itertools.count(1)


@dataclass(frozen=True)
class RaceEdit:
    """The one edit every lane runs."""

    text: str  # the whole document
    selection: tuple[int, int]  # target range in `text` (char offsets, end exclusive)
    instruction: str  # what to do
    language: str = "python"  # language name sent to the engine
    path: str | None = None  # where the document lives, if saved
    seed: int | None = None  # sampling seed (the bundled model decodes greedily anyway)
    max_tokens: int | None = None  # output bound; None = the engine's default


# Called with (lane index, engine message) for every message of every lane, in arrival order.
LaneListener = Callable[[int, dict[str, Any]], None]


class RaceRun:
    """One race: `await run()` starts every lane together and returns when all have ended."""

    def __init__(self, client: EngineClient, edit: RaceEdit, lanes: tuple[LaneSpec, ...],
                 listener: LaneListener | None = None) -> None:
        self.client = client
        self.edit = edit
        self.lanes = [LaneProgress(spec) for spec in lanes]
        self.listener = listener
        self.streams: list[RequestStream] = []
        self.log: list[tuple[str, int]] = []  # ("sent" | "token" | "done", lane) in order

    async def run(self) -> list[LaneProgress]:
        edit = self.edit
        session = f"race{next(_sessions)}"
        await self.client.open_document(session, edit.text, edit.language, edit.path)
        # The target code is prefilled now, before the clocks start, as the editor's prewarm does.
        await self.client.update_document(session, edit.text, selection=edit.selection)
        streams: dict[int, RequestStream] = {}
        # Back to back, nothing awaited in between but the sends: the lanes start together.
        for i in send_order(tuple(lane.spec for lane in self.lanes)):
            spec = self.lanes[i].spec
            streams[i] = await self.client.generate(
                session, edit.instruction, edit.selection, profile=spec.profile if spec.paced else None,
                emulate=spec.emulate if spec.paced else None, seed=edit.seed, max_tokens=edit.max_tokens)
            self.log.append(("sent", i))
        self.streams = [streams[i] for i in range(len(self.lanes))]
        try:
            await asyncio.gather(*(self._consume(i, s) for i, s in enumerate(self.streams)))
        finally:
            try:
                await self.client.send({"type": "close", "session": session})
            except EngineError:
                pass
        return self.lanes

    async def _consume(self, i: int, stream: RequestStream) -> None:
        lane = self.lanes[i]
        async for msg in stream:
            kind = msg.get("type")
            if kind == "token":
                lane.on_token(msg["count"] if isinstance(msg.get("count"), int) else 1, float(msg.get("t_emit_ms") or 0.0))
                self.log.append(("token", i))
            elif kind == "done" and msg.get("reason") != "redirect":
                lane.on_done(str(msg.get("reason", "eos")), DoneStats.from_message(msg.get("stats")))
                self.log.append(("done", i))
            elif kind == "error":
                lane.on_done("error", {})
                self.log.append(("done", i))
            if self.listener is not None:
                self.listener(i, msg)

    async def stop(self) -> None:
        """Stop every lane still running (Esc in the race window)."""
        for stream, lane in zip(self.streams, self.lanes):
            if not lane.finished:
                await self.client.stop(stream.request_id)
