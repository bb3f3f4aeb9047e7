"""Connects the wafer emulation's pacer to the session stream (kept apart so the server stays small)."""

from __future__ import annotations

LOCAL = "local"


def profile_names() -> list[str]:
    """Hardware profiles a client may pass as ``profile``; ``local`` means no pacing."""
    try:
        from .wafer.profiles import PROFILES  # type: ignore[attr-defined]
    except ImportError:
        return [LOCAL]
    names = list(PROFILES)
    return names if LOCAL in names else [*names, LOCAL]


def make_pacing(engine, profile: str, job, send):
    """(pace(n) → awaitable | None, stats() → dict) for a request, or (None, None) without pacing."""
    if not profile or profile == LOCAL:
        return None, None
    return None, None
