"""Bounds on what one client may hold in the engine, and documents that arrive in parts.

A local WebSocket server is reachable by every process on the machine: before ``hello`` a client
gets a few kilobytes and a few seconds; after it, bounded sessions, streams, queued work, document
bytes and message rate, so one client cannot starve the others.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from wire import MAX_DOCUMENT_BYTES, MAX_FRAME_BYTES, ProtocolError, utf8_size


@dataclass(frozen=True)
class Limits:
    max_connections: int = 64  # open WebSocket connections, authenticated or not
    max_sessions: int = 16  # open sessions per connection
    max_streams: int = 8  # requests streaming at once per connection
    max_queued: int = 32  # prewarms and measures waiting per connection
    max_connection_bytes: int = 2 * MAX_DOCUMENT_BYTES  # UTF-8 bytes of all documents of one connection
    messages_per_s: float = 2000.0  # sustained message rate per connection (faster clients are slowed)
    message_burst: int = 4000  # messages a connection may send at once before it is slowed
    max_frame_bytes: int = MAX_FRAME_BYTES  # frame size after hello


class RateLimiter:
    """A token bucket: `wait()` returns at once within the budget, else sleeps until it refills.

    Throttling (rather than refusing) keeps every message, stops included: a client that sends too
    fast is slowed down through TCP back-pressure and loses nothing.
    """

    def __init__(self, per_s: float, burst: int):
        self.per_s = per_s  # refill rate, messages per second
        self.burst = burst  # bucket size, messages
        self._tokens = float(burst)
        self._t = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._t) * self.per_s)
        self._t = now
        if self._tokens < 1.0:
            await asyncio.sleep((1.0 - self._tokens) / self.per_s)
            self._tokens = 1.0
            self._t = time.monotonic()
        self._tokens -= 1.0


@dataclass
class PartialDocument:
    """A document arriving in parts: ``open``/``update`` with ``parts`` N, then N-1 ``append``."""

    session: str  # the session it belongs to
    message: dict  # the open/update message that started it (its first part is in `chunks`)
    expected: int  # parts announced
    chunks: list[str] = field(default_factory=list)  # parts kept so far
    received: int = 0  # parts received so far (kept or, once refused, absorbed)
    size: int = 0  # UTF-8 bytes received so far
    refused: bool = False  # too large: later parts are absorbed without a reply each

    def add(self, text: str) -> None:
        """Take one part; raise `document_too_large` when the whole would pass the limit."""
        self.received += 1
        if self.refused:
            return
        self.size += utf8_size(text)
        if self.size > MAX_DOCUMENT_BYTES:
            self.refused = True
            self.chunks = []
            raise ProtocolError("document_too_large", too_large_message(self.session, self.size))
        self.chunks.append(text)

    @property
    def finished(self) -> bool:
        """All announced parts have arrived (kept, or absorbed after a refusal)."""
        return self.received >= self.expected

    def text(self) -> str:
        return "".join(self.chunks)


def too_large_message(session: str, size: int) -> str:
    return (f"the document of session {session!r} is larger than the engine accepts "
            f"({size / 2**20:.1f} MiB so far; the limit is {MAX_DOCUMENT_BYTES // 2**20} MiB)")
