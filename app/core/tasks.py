"""The asyncio tasks one owner started: kept until they end, a failure reported, cancelled together. No Qt.

A task nobody holds may be garbage-collected mid-flight, and its exception is only logged; the
controller keeps each of its tasks here and shows a failure in the status line instead.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable


class TaskSet:
    def __init__(self, on_failure: Callable[[BaseException], None]) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_failure = on_failure  # called with the exception of a task that failed

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._on_failure(task.exception())

    async def wait_idle(self) -> None:
        """Wait for every task, including those started meanwhile (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel_all(self) -> list[asyncio.Task[Any]]:
        """Cancel every task; returns them (to gather)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return tasks
