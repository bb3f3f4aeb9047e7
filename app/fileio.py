"""Reading and atomically writing the user's files. No Qt.

A save writes a temporary file next to the target, flushes it to disk and renames it over the
target (`os.replace` is atomic on POSIX and Windows), so a crash mid-save leaves the old file or
the new one, never half of each.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Refuse to open what is clearly not a source file rather than freeze the editor on it.
MAX_OPEN_BYTES = 20 * 1024 * 1024


class FileError(Exception):
    """A file could not be read or written; the message is meant for the user."""


def read_text(path: str | os.PathLike[str]) -> str:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_OPEN_BYTES:
            raise FileError(f"{p.name} is {size / 1e6:.0f} MB, too large to edit here.")
        data = p.read_bytes()
    except OSError as exc:
        raise FileError(f"Cannot open {p}: {exc.strerror or exc}") from exc
    if b"\0" in data[:8192]:
        raise FileError(f"{p.name} looks like a binary file, not text.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # never refuse a text file over its encoding


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    p = Path(path)
    mode = None
    try:
        mode = p.stat().st_mode & 0o777
    except OSError:
        pass
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
    except OSError as exc:
        raise FileError(f"Cannot save {p}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, p)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise FileError(f"Cannot save {p}: {exc.strerror or exc}") from exc
