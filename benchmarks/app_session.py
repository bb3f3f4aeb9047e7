"""Drive the real app (window + engine child process) from a script: shared by the app benchmarks.

`run_app(scenario, ...)` starts Qt and a qasync loop, opens the window on a fresh engine, awaits
`scenario(window)` and shuts everything down cleanly, whatever happens.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEMO_SOURCE = '''"""Shapes and their areas."""

import math


def circle_area(radius):
    print("debug: radius", radius)
    return math.pi * radius ** 2


def rectangle_area(width, height):
    print("debug:", width, height)
    return width * height


def describe(name, area):
    return "%s has an area of %.2f" % (name, area)


def report(shapes):
    lines = []
    for name, size in shapes:
        if name == "circle":
            area = circle_area(size)
        else:
            area = rectangle_area(*size)
        lines.append(describe(name, area))
    return "\\n".join(lines)
'''


async def until(predicate: Callable[[], bool], timeout_s: float = 60.0, what: str = "condition") -> None:
    """Poll `predicate` on the event loop (Qt keeps painting meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def run_app(scenario: Callable[..., Awaitable[object]], model: str | None = None,
            size: tuple[int, int] = (1600, 900)) -> object:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # The window keeps unsaved text for recovery in the user's state folder; a benchmark's typing
    # goes to a folder of its own, not to the next start of the app.
    state = tempfile.TemporaryDirectory(prefix="tessera-bench-state-")
    os.environ["XDG_STATE_HOME"] = state.name
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.qt.assembly import assemble

    app = QApplication.instance() or QApplication([sys.argv[0]])

    async def main() -> object:
        parts = assemble(model_dir=model)
        window, link = parts.window, parts.link
        window.resize(*size)
        window.show()
        try:
            await link.start()
            return await scenario(window)
        finally:
            await parts.shutdown()
            window.close()

    try:
        with asyncio.Runner(loop_factory=functools.partial(qasync.QEventLoop, app)) as runner:
            return runner.run(main())
    finally:
        state.cleanup()
