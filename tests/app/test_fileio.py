"""Saves are atomic, durable and polite: permissions, read-only files, hard links, temp files."""

from __future__ import annotations

import os
import random
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.files.disk import (FileError, ReadOnlyFileError, changed_on_disk, clean_stale_temps, read_bytes,
                        write_bytes)
from tests.conftest import ROOT, trials

# A child process that saves whole versions of one file as fast as it can, printing each number.
SAVE_LOOP = """
import sys
from app.core.files.disk import write_bytes
path, size = sys.argv[1], int(sys.argv[2])
n = 0
while True:
    n += 1
    line = f"version {n:08d}\\n".encode()
    write_bytes(path, line * (size // len(line)))
    print(n, flush=True)
"""


def whole_version(data: bytes, size: int) -> int:
    """The version number if `data` is one whole version, else fail."""
    first = data[:17]
    assert first.startswith(b"version ") and data == first * (size // 17), "a torn or mixed file"
    return int(first[8:16])


def test_a_save_keeps_permissions_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"old\n")
    os.chmod(path, 0o751)
    report = write_bytes(path, b"new\n")
    assert path.read_bytes() == b"new\n" and stat.S_IMODE(path.stat().st_mode) == 0o751
    assert not report.in_place and sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]
    assert not changed_on_disk(path, report.stamp)


def test_a_read_only_file_is_never_replaced(tmp_path):
    path = tmp_path / "ro.py"
    path.write_bytes(b"keep\n")
    os.chmod(path, 0o444)
    with pytest.raises(ReadOnlyFileError, match="read-only"):
        write_bytes(path, b"lost\n")
    assert path.read_bytes() == b"keep\n" and stat.S_IMODE(path.stat().st_mode) == 0o444


def test_hard_links_are_kept_by_writing_in_place(tmp_path):
    path, twin = tmp_path / "a.py", tmp_path / "twin.py"
    path.write_bytes(b"one\n" * 100)
    os.link(path, twin)
    inode = path.stat().st_ino
    report = write_bytes(path, b"two\n")
    assert report.in_place and path.stat().st_ino == inode and twin.read_bytes() == b"two\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py", "twin.py"]


def test_a_symlink_stays_a_link_and_its_target_is_saved(tmp_path):
    real = tmp_path / "real.py"
    real.write_bytes(b"x\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    write_bytes(link, b"y\n")
    assert link.is_symlink() and real.read_bytes() == b"y\n"


def test_a_change_on_disk_is_noticed_but_a_touch_is_not(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"mine\n")
    _data, stamp = read_bytes(path)
    os.utime(path, ns=(stamp.mtime_ns + 5_000_000_000,) * 2)
    assert not changed_on_disk(path, stamp)  # same bytes, newer time
    path.write_bytes(b"theirs\n")
    assert changed_on_disk(path, stamp)
    path.unlink()
    assert changed_on_disk(path, stamp)


def test_temporary_files_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = tmp_path / f".a.py.tessera-{dead}-abcd.tmp"
    stale.write_bytes(b"x" * 1000)
    mine = tmp_path / f".a.py.tessera-{os.getpid()}-ef01.tmp"
    mine.write_bytes(b"y")
    other = tmp_path / ".unrelated.tmp"
    other.write_bytes(b"z")
    assert clean_stale_temps(tmp_path) == 1
    assert not stale.exists() and mine.exists() and other.exists()


def test_an_interrupted_in_place_save_is_rolled_forward_on_open(tmp_path):
    path, twin = tmp_path / "a.py", tmp_path / "twin.py"
    path.write_bytes(b"new half" + b"old tail\n")  # what a kill mid-copy leaves
    os.link(path, twin)
    (tmp_path / ".a.py.tessera-999999999-journal.tmp").write_bytes(b"new whole\n")
    data, _stamp = read_bytes(path)
    assert data == b"new whole\n" and twin.read_bytes() == b"new whole\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py", "twin.py"]


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileError, match="Cannot save"):
        write_bytes(tmp_path / "nope" / "a.py", b"x")


@pytest.mark.parametrize("linked", [False, True], ids=["renamed", "hard-linked"])
def test_a_kill_during_a_save_leaves_one_whole_version_and_no_temporary_file(tmp_path, linked):
    size = 256 * 1024
    path = tmp_path / "saved.txt"
    path.write_bytes(b"version 00000000\n" * (size // 17))
    if linked:
        os.link(path, tmp_path / "twin.txt")
    rng = random.Random(13)
    versions = set()
    for _trial in range(trials(ci=4, by_hand=60)):
        child = subprocess.Popen([sys.executable, "-c", SAVE_LOOP, str(path), str(size)],
                                 stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert child.stdout.readline().strip()  # one save done: the loop runs
        time.sleep(rng.uniform(0.0, 0.05))  # a random point of a later save: not a wait for state
        child.kill()
        child.wait()
        child.stdout.close()
        data, _stamp = read_bytes(path)  # as the app opens it: rolls an in-place save forward
        versions.add(whole_version(data, size))
        clean_stale_temps(tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == (["saved.txt", "twin.txt"] if linked else ["saved.txt"])
        if linked:
            assert (tmp_path / "twin.txt").read_bytes() == data
    assert len(versions) >= 1
