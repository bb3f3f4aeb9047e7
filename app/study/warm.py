"""`tessera study warm FILE`: run each prepared task once through the real engine and store the output.

The engine runs in record mode (`tessera-engine serve --responses PATH --responses-mode record`)
and the requests go through the same `EditController` the study window uses, with a view that
draws nothing, so the recorded prompt is exactly the one a participant's Enter will send. The
cache is keyed by model + prompt; timing is not part of it (each condition paces the replay).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from app.core.edit.controller import EditController
from app.core.link.client import EngineClient, EngineProcess
from wire import DoneStats
from .workspace import line_selection, prepare_workspace


class HeadlessView:
    """An `EditView` that keeps the document and shows nothing (the controller keeps the diff)."""

    def __init__(self, text: str, selection: tuple[int, int], path: str) -> None:
        self.text, self.sel, self.path = text, selection, path
        self.statuses: list[tuple[str, str]] = []

    def document_text(self) -> str: return self.text
    def selection(self) -> tuple[int, int]: return self.sel
    def language(self) -> str: return "python" if self.path.endswith(".py") else "text"
    def document_path(self) -> str | None: return self.path
    def show_status(self, text: str, level: str = "info") -> None: self.statuses.append((level, text))
    def after_paint(self, callback: Callable[[], None]) -> None: callback()
    def __getattr__(self, name: str) -> Callable[..., Any]:  # the rest: nothing to show
        return lambda *args, **kwargs: None


async def warm(study, model_dir: str | None = None, out=sys.stdout) -> int:
    """Record every prepared task's response; returns how many were recorded."""
    process = EngineProcess(model_dir, extra_args=("--responses", str(study.responses), "--responses-mode", "record"))
    url = await process.start()
    recorded = 0
    try:
        client = EngineClient()
        await client.connect(url, process.token)
        with tempfile.TemporaryDirectory(prefix="tessera-warm-") as tmp:
            for task in study.tasks:
                if task.free:
                    print(f"{task.id}: free task, answered live during the study", file=out)
                    continue
                path = prepare_workspace(task, Path(tmp))
                text = path.read_text(encoding="utf-8")
                view = HeadlessView(text, line_selection(text, task.selection), str(path))
                controller = EditController(view, client)
                # The text does not depend on speculation; its draft marks are kept when on.
                controller.configure(speculate=any(c.speculation for c in study.conditions),
                                     whole=True)  # as the paced study asks: the model writes the whole target
                await controller.engine.open_document()
                controller.submit(task.instruction)
                await controller.wait_idle()
                stats = controller.run.stats if controller.run else DoneStats()
                source = stats.response_source
                print(f"{task.id}: {stats.tokens_out} tokens, {source or 'not recorded'}", file=out)
                recorded += source == "recorded"
        await client.close()
    finally:
        await process.stop()
    print(f"{recorded} response(s) in {study.responses}", file=out)
    return recorded
