"""Reading and safely writing the user's files. No Qt.

A save writes the new bytes to a temporary file next to the target, fsyncs it, gives it the
target's permissions and owner, renames it over the target (atomic on POSIX) and fsyncs the folder:
a crash mid-save leaves the old file or the new one, never half of each. A file with more than one
hard link is written in place instead (a rename would split the links): the new bytes first go to
a fsynced journal beside it, so an interrupted in-place write is rolled forward on the next open.
Read-only files are never replaced. Temporary files carry the writer's pid; those of a process
that is gone are removed when their folder is next used.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

# Refuse to open what is clearly not a source file rather than hold it all in the editor.
MAX_OPEN_BYTES = 32 * 1024 * 1024
_TEMP_TAG = ".tessera-"  # temporary names: .<name>.tessera-<pid>-<kind>.tmp
_JOURNAL = "journal"


class FileError(Exception):
    """A file could not be read or written; the message is meant for the user."""


class ReadOnlyFileError(FileError):
    """The file is read-only: it stays so (save a copy elsewhere)."""


@dataclass(frozen=True)
class DiskStamp:
    """What a file looked like on disk when we last read or wrote it."""

    mtime_ns: int  # modification time, nanoseconds since the epoch
    size: int  # bytes
    inode: int  # st_ino: a rename over the file gives a new one
    sha256: str  # of the content, to tell a `touch` from a real change


@dataclass(frozen=True)
class SaveReport:
    """How a save went."""

    stamp: DiskStamp  # the file as now on disk
    in_place: bool  # written into the existing inode (hard links kept) instead of renamed over


def _stamp(st: os.stat_result, data: bytes) -> DiskStamp:
    return DiskStamp(st.st_mtime_ns, st.st_size, st.st_ino, hashlib.sha256(data).hexdigest())


def read_bytes(path: str | os.PathLike[str]) -> tuple[bytes, DiskStamp]:
    """A file's bytes and stamp; rolls an interrupted in-place save forward first."""
    p = Path(path)
    try:
        recover_interrupted(p)
        size = p.stat().st_size
        if size > MAX_OPEN_BYTES:
            raise FileError(f"{p.name} is {size / 2**20:.0f} MiB; files up to "
                            f"{MAX_OPEN_BYTES // 2**20} MiB open here.")
        with open(p, "rb") as f:
            data = f.read()
            st = os.fstat(f.fileno())
    except OSError as exc:
        raise FileError(f"Cannot open {p}: {exc.strerror or exc}") from exc
    return data, _stamp(st, data)


def is_writable(path: str | os.PathLike[str]) -> bool:
    """False for a file nobody may write (no w bit; root included, as editors do) or we may not."""
    try:
        return bool(os.stat(path).st_mode & 0o222) and os.access(path, os.W_OK)
    except OSError:
        return False


def changed_on_disk(path: str | os.PathLike[str], known: DiskStamp) -> bool:
    """True if the file's content differs from `known` (gone counts as changed)."""
    try:
        st = os.stat(path)
    except OSError:
        return True
    if (st.st_mtime_ns, st.st_size, st.st_ino) == (known.mtime_ns, known.size, known.inode):
        return False
    if st.st_size != known.size:
        return True
    try:
        data = Path(path).read_bytes()
    except OSError:
        return True
    return hashlib.sha256(data).hexdigest() != known.sha256


def write_bytes(path: str | os.PathLike[str], data: bytes) -> SaveReport:
    """Save `data` to `path` (see the module docstring); FileError says why not."""
    p = Path(path).resolve()  # through a symlink: the link stays, its target gets the bytes
    try:
        st: os.stat_result | None = p.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise FileError(f"Cannot save {p}: {exc.strerror or exc}") from exc
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise FileError(f"Cannot save {p}: it is not a regular file.")
    if st is not None and not is_writable(p):
        raise ReadOnlyFileError(f"{p.name} is read-only; it stays unchanged. Use Save As for a copy.")
    clean_stale_temps(p.parent)
    try:
        if st is not None and st.st_nlink > 1:
            return SaveReport(_write_in_place(p, data), True)
        return SaveReport(_replace(p, data, st), False)
    except OSError as exc:
        raise FileError(f"Cannot save {p}: {exc.strerror or exc}") from exc


def _temp_path(p: Path, kind: str) -> Path:
    return p.with_name(f".{p.name}{_TEMP_TAG}{os.getpid()}-{kind}.tmp")


def _write_new(target: Path, data: bytes, mode: int) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(p: Path, data: bytes, st: os.stat_result | None) -> DiskStamp:
    tmp = _temp_path(p, secrets.token_hex(4))
    try:
        _write_new(tmp, data, 0o600)
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                try:
                    os.chown(tmp, st.st_uid, st.st_gid)
                except PermissionError:
                    pass  # only root may give a file away; the group usually follows the folder
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(p.parent)
    return _stamp(p.stat(), data)


def _write_in_place(p: Path, data: bytes) -> DiskStamp:
    journal = _temp_path(p, _JOURNAL)
    partial = _temp_path(p, "partial")
    # The journal is renamed into place only once whole and on disk: an existing journal is
    # always a complete new version, safe to roll forward.
    _write_new(partial, data, 0o600)
    os.replace(partial, journal)
    fsync_folder(p.parent)
    _copy_into(p, data)
    journal.unlink()
    fsync_folder(p.parent)
    return _stamp(p.stat(), data)


def _copy_into(p: Path, data: bytes) -> None:
    fd = os.open(p, os.O_WRONLY)
    try:
        view = memoryview(data)
        offset = 0
        while offset < len(data):
            offset += os.pwrite(fd, view[offset:], offset)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: Path) -> None:
    """Make a rename or unlink in `folder` durable (the file's own fsync does not cover it)."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_owner(name: str) -> tuple[str, int, str] | None:
    """(target name, pid, kind) for one of our temporary names, else None."""
    if not (name.startswith(".") and name.endswith(".tmp") and _TEMP_TAG in name):
        return None
    target, _, rest = name[1:-4].rpartition(_TEMP_TAG)
    pid, _, kind = rest.partition("-")
    return (target, int(pid), kind) if pid.isdigit() and target else None


def process_alive(pid: int) -> bool:
    """Whether process `pid` still runs (a temporary or recovery file of a live writer is kept)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted(p: Path) -> bool:
    """Roll forward an in-place save of `p` that a dead process left half done; True if it did."""
    rolled = False
    try:
        names = os.listdir(p.parent)
    except OSError:
        return False
    for name in names:
        owner = _temp_owner(name)
        if owner and owner[0] == p.name and owner[2] == _JOURNAL and not process_alive(owner[1]):
            journal = p.parent / name
            _copy_into(p, journal.read_bytes())
            journal.unlink()
            rolled = True
    if rolled:
        fsync_folder(p.parent)
    return rolled


def clean_stale_temps(folder: Path) -> int:
    """Remove temporary files that dead processes left in `folder` (journals are rolled forward)."""
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        owner = _temp_owner(name)
        if owner is None or process_alive(owner[1]):
            continue
        if owner[2] == _JOURNAL:
            try:
                recover_interrupted(folder / owner[0])
            except OSError:
                continue
        else:
            try:
                (folder / name).unlink()
            except FileNotFoundError:
                pass
            except OSError:
                continue
        removed += 1
    return removed
