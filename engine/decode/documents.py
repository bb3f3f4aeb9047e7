"""The documents the engine edits, one per client session, and the error a refused request raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from wire import ProtocolError

from .job import EditJob

RequestError = ProtocolError  # a request the engine refuses, with a protocol error code


@dataclass
class Document:
    text: str  # the whole document
    path: str | None = None  # where it lives, if saved
    language: str = "python"  # Pygments language name
    selection: tuple[int, int] | None = None  # last selection the app told us about (prewarm)


@dataclass
class Session:
    id: str  # client-chosen session id
    document: Document  # current document text
    jobs: dict[str, EditJob] = field(default_factory=dict)  # request id → its (last) job
