"""Hot exit: unsaved buffers kept in a recovery folder, offered back after a crash. No Qt.

Each window writes its unsaved text to `<folder>/<entry>.json` (atomically: temp file, fsync,
rename) a moment after each change, and removes it when the text is saved or knowingly closed. An
entry whose process is gone (killed, crashed, power cut) is an orphan: the next start offers it
back, as VS Code's hot exit and Vim's swap files do. The folder is platformdirs' user state folder
(`$XDG_STATE_HOME/tessera/recovery` on Linux).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from app.core.files.disk import process_alive, fsync_folder

FORMAT_VERSION = 1


def default_folder() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("tessera")) / "recovery"


@dataclass(frozen=True)
class RecoveryEntry:
    """One unsaved buffer as last written."""

    entry_id: str  # file stem in the recovery folder
    path: str | None  # the file the buffer belongs to (None: never saved)
    text: str  # the editor's text ("\n" line breaks)
    saved_at: float  # time.time() of the write, seconds
    pid: int  # process that wrote it


class RecoveryStore:
    """The recovery folder; one `RecoveryStore` per process is enough."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_folder()

    @staticmethod
    def new_id() -> str:
        return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"

    def write(self, entry_id: str, path: str | None, text: str) -> None:
        """Keep `text` for `entry_id`; OSError if the folder cannot be written."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        record = {"version": FORMAT_VERSION, "path": path, "text": text,
                  "saved_at": time.time(), "pid": os.getpid()}
        final = self.folder / f"{entry_id}.json"
        tmp = self.folder / f".{entry_id}.{os.getpid()}.part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f, ensure_ascii=False)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_folder(self.folder)

    def remove(self, entry_id: str) -> None:
        try:
            (self.folder / f"{entry_id}.json").unlink()
        except FileNotFoundError:
            return
        fsync_folder(self.folder)

    def read(self, entry_id: str) -> RecoveryEntry | None:
        try:
            record = json.loads((self.folder / f"{entry_id}.json").read_text(encoding="utf-8"))
            return RecoveryEntry(entry_id, record.get("path"), str(record["text"]),
                                 float(record.get("saved_at", 0.0)), int(record.get("pid", 0)))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def orphans(self) -> list[RecoveryEntry]:
        """Entries of processes that are gone, newest first (their leftover parts removed)."""
        try:
            names = sorted(os.listdir(self.folder))
        except OSError:
            return []
        found = []
        for name in names:
            if name.startswith(".") and name.endswith(".part"):
                pid = name[:-5].rpartition(".")[2]
                if pid.isdigit() and not process_alive(int(pid)):
                    (self.folder / name).unlink(missing_ok=True)
                continue
            if not name.endswith(".json"):
                continue
            entry = self.read(name[:-5])
            if entry is not None and not process_alive(entry.pid):
                found.append(entry)
        return sorted(found, key=lambda e: e.saved_at, reverse=True)
