"""The one-clock event log: append-only JSONL, flushed at least every 100 ms.

Every event carries ``t`` (seconds on the log's clock: ``time.perf_counter()`` minus the perf_counter
time at which the log was opened) and ``kind``. The first line of a session is ``log_start``,
which also records the wall-clock time, so one clock orders every event and the session can be
placed in real time.

Durability: events are buffered; a write flushes the buffer (with ``os.write`` on an ``O_APPEND``
descriptor, straight to the kernel) once 100 ms have passed since the last flush, and a
background thread flushes every 50 ms while the process is idle. So whatever kills the process,
SIGKILL included, every event older than the newest event by more than 100 ms is already in the
file. `read_log` tolerates a torn last line.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

FLUSH_S = 0.1  # the most a write may wait before it reaches the kernel, s
IDLE_FLUSH_S = 0.05  # how often the background thread flushes, s


class EventLog:
    """Appends events to ``path``; thread-safe. `close()` flushes and stops the flusher."""

    def __init__(self, path: str | os.PathLike[str], clock: Callable[[], float] = time.perf_counter,
                 background: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._clock = clock
        self._t0 = clock()
        self._buffer: list[bytes] = []
        self._lock = threading.Lock()
        self._last_flush = self._t0
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._flusher, name="study-log-flush", daemon=True)
            self._thread.start()

    def now(self) -> float:
        """Seconds on the log's clock."""
        return self._clock() - self._t0

    def to_log_time(self, perf_s: float) -> float:
        """A ``time.perf_counter()`` reading (e.g. a paint time) on the log's clock."""
        return perf_s - self._t0

    def write(self, kind: str, t: float | None = None, **fields: Any) -> dict:
        """Append one event (``t`` defaults to now) and return it."""
        event = {"t": round(self.now() if t is None else t, 6), "kind": kind, **fields}
        line = (json.dumps(event, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        with self._lock:
            if self._closed.is_set():
                raise ValueError("the event log is closed")
            self._buffer.append(line)
            if self._clock() - self._last_flush >= FLUSH_S:
                self._flush_locked()
        return event

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self._last_flush = self._clock()
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._buffer.clear()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _flusher(self) -> None:
        while not self._closed.wait(IDLE_FLUSH_S):
            with self._lock:
                if not self._closed.is_set():
                    self._flush_locked()

    def close(self) -> None:
        with self._lock:
            if self._closed.is_set():
                return
            self._flush_locked()
            self._closed.set()
            os.fsync(self._fd)
            os.close(self._fd)
        if self._thread is not None:
            self._thread.join()


@dataclass
class LogContents:
    """A parsed log."""

    events: list[dict]  # every complete event, in file order
    torn_tail: bool  # the last line was cut short (the process died mid-write) and was skipped
    path: str = ""  # where it was read from


def read_log(path: str | os.PathLike[str]) -> LogContents:
    """Parse a JSONL log; a torn final line is skipped, a bad line elsewhere is an error."""
    raw = Path(path).read_bytes()
    lines = raw.split(b"\n")
    events, torn = [], False
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or "kind" not in event or "t" not in event:
                raise ValueError("not an event object")
        except ValueError as exc:
            if n == len(lines):  # no newline after it: the write was cut short
                torn = True
                continue
            raise ValueError(f"{path}:{n}: not a study log line ({exc})") from None
        events.append(event)
    return LogContents(events, torn, str(path))
