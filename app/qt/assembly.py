"""The one place that builds the app: window, controller and engine link, bound together.

`main`, the end-to-end tests, the study session and the benchmarks all call `assemble`; nothing
else constructs an `EditController` for the window or an `EngineLink`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QWidget

from app.core.edit.controller import EditController
from app.core.link.engine_link import EngineLink
from app.qt.mainwindow import MainWindow


@dataclass
class Assembly:
    """A window bound to its controller, and the link that starts (or reaches) the engine."""

    window: MainWindow  # the view: editor, live diff, gauges, instruction bar
    controller: EditController  # owns the edit: the streaming diff, the hunk states, the mode
    link: EngineLink | None  # None: a window without an engine (an instruction says so)

    async def start(self) -> None:
        """Start (or reach) the engine and open the window's document there."""
        assert self.link is not None, "assembled without an engine"
        await self.link.start()

    async def shutdown(self) -> None:
        await shutdown(self.controller, self.link)


def assemble(parent: QWidget | None = None, *, model_dir: str | None = None, engine_url: str | None = None,
             token_file: str | None = None, endpoint: Any = None, engine_args: tuple[str, ...] = (),
             with_engine: bool = True) -> Assembly:
    """Build window, controller and engine link, and bind them; starts nothing (see `Assembly.start`).

    `engine_url` reaches a running engine (token from `token_file` or TESSERA_TOKEN); otherwise the
    link starts a child engine on `model_dir` (None: the bundled model) or relaying to `endpoint`.
    """
    window = MainWindow(parent)
    controller = EditController(window.edit_view)
    window.bind(controller)
    link = None
    if with_engine:
        link = EngineLink(window, controller, engine_url=engine_url, token_file=token_file, model_dir=model_dir,
                          endpoint=endpoint, engine_args=engine_args)
        controller.engine.set_engine_starter(link.connect)
        window.modelFolderChosen.connect(lambda folder: controller.spawn(link.switch_model(folder)))
    return Assembly(window, controller, link)


async def shutdown(controller: EditController, link: EngineLink | None) -> None:
    """Cancel the controller's tasks, close the connection, stop the engine, gather the rest."""
    tasks = controller.cancel_tasks()
    await asyncio.gather(*tasks, return_exceptions=True)
    await controller.engine.close_document()
    if link is not None:
        await link.close()
    current = asyncio.current_task()
    rest = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)
