"""The recovery folder: entries written atomically, orphans of dead processes found."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from app.core.files.recovery import RecoveryStore


def dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)


def test_an_entry_of_a_live_process_is_not_an_orphan_and_is_removed_on_request(tmp_path):
    store = RecoveryStore(tmp_path)
    store.write("e1", "/x/a.py", "text\u00a0\u2028\n")
    assert store.read("e1").text == "text\u00a0\u2028\n"
    assert store.orphans() == []
    store.remove("e1")
    assert list(tmp_path.iterdir()) == []


def test_entries_of_dead_processes_are_offered_newest_first(tmp_path):
    pid = dead_pid()
    for name, when in (("old", 100.0), ("new", 200.0)):
        (tmp_path / f"{name}.json").write_text(json.dumps(
            {"version": 1, "path": f"/p/{name}.py", "text": name, "saved_at": when, "pid": pid}))
    (tmp_path / f".x.{pid}.part").write_text("half")
    (tmp_path / "broken.json").write_text("{not json")
    orphans = RecoveryStore(tmp_path).orphans()
    assert [e.entry_id for e in orphans] == ["new", "old"]
    assert not (tmp_path / f".x.{pid}.part").exists()


def test_the_default_folder_follows_the_platform_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert RecoveryStore().folder == tmp_path / "tessera" / "recovery"
    RecoveryStore().write("e", None, "x")
    assert (tmp_path / "tessera" / "recovery" / "e.json").is_file()
    assert os.stat(tmp_path / "tessera" / "recovery").st_mode & 0o077 == 0
