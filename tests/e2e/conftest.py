"""Fixtures for end-to-end tests: one qasync loop driven by pytest-qt, and a window on a real engine.

pytest-qt spins Qt's event loop (`qtbot.waitUntil`, `waitSignal`); a qasync loop created with
`already_running=True` runs its asyncio callbacks whenever Qt processes events, so coroutines
started by the app make progress while a test waits, with no nested asyncio loop.
"""

from __future__ import annotations

import asyncio
import gc

import pytest
import qasync

from app.qt.assembly import assemble
from engine.model.modelspec import MODELS_DIR

# The random-weight test model: deterministic for a seed, never ends early, fast to load. The
# bundled edit model would finish most edits before a test could press Stop.
TEST_MODEL = MODELS_DIR / "tiny-random"

WAIT_MS = 30_000  # generous: the machine is shared; these waits end as soon as the condition holds


@pytest.fixture
def qloop(qapp):
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    leftover = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in leftover:
        task.cancel()
    # Leave the "running" state so the loop can finish the cancelled tasks and close.
    loop._QEventLoop__is_running = False  # noqa: SLF001 (qasync has no public way back)
    asyncio.events._set_running_loop(None)
    if leftover:
        loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)
    del loop
    # Collect this test's Qt garbage now, on the GUI thread; a collection that happens to run on
    # another thread (asyncio's child watcher) would destroy Qt objects there and crash.
    gc.collect()


@pytest.fixture
def run_async(qtbot, qloop):
    """Run a coroutine on the qasync loop while Qt keeps processing events; return its result."""

    def run(coro, timeout_ms: int = WAIT_MS):
        task = asyncio.ensure_future(coro)
        qtbot.waitUntil(task.done, timeout=timeout_ms)
        return task.result()

    return run


@pytest.fixture
def assembled(qtbot, run_async):
    """The app on a fresh engine child process running the test model: window, controller, link."""
    parts = assemble(model_dir=str(TEST_MODEL))
    win, link = parts.window, parts.link
    qtbot.addWidget(win)
    win.controller.configure(seed=1234, temperature=1.0)  # the test model's greedy output repeats one token
    win.show()
    run_async(link.start())
    yield parts
    win.stop_timers()
    run_async(parts.shutdown())
    assert link.process is None


@pytest.fixture
def window(assembled):
    """The main window of `assembled`."""
    return assembled.window
