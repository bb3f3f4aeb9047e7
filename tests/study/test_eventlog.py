"""The event log: one clock, append-only, and a SIGKILL loses at most the last 100 ms."""

import json
import os
import signal
import subprocess
import sys
from collections import Counter

from app.study.eventlog import FLUSH_S, EventLog, read_log
from tests.study.conftest import ROOT, write_study


class FakeClock:
    def __init__(self):
        self.now = 10.0

    def __call__(self):
        return self.now


def test_writes_reach_the_file_within_the_flush_window(tmp_path):
    clock = FakeClock()
    log = EventLog(tmp_path / "a.jsonl", clock=clock, background=False)
    log.write("one", x=1)
    clock.now += FLUSH_S / 2
    log.write("two")
    assert (tmp_path / "a.jsonl").read_bytes() == b""  # buffered: less than 100 ms old
    clock.now += FLUSH_S / 2
    log.write("three")  # the window has passed: everything so far goes out
    events = read_log(tmp_path / "a.jsonl").events
    assert [(e["kind"], e["t"]) for e in events] == [("one", 0.0), ("two", 0.05), ("three", 0.1)]
    log.close()


def test_a_torn_last_line_is_skipped_and_reported(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({"t": 0, "kind": "a"}) + "\n" + '{"t": 1, "ki')
    contents = read_log(path)
    assert [e["kind"] for e in contents.events] == ["a"] and contents.torn_tail
    path.write_text('{"t": 1, "ki\n' + json.dumps({"t": 0, "kind": "a"}) + "\n")
    try:
        read_log(path)
    except ValueError as exc:
        assert "b.jsonl:1" in str(exc)
    else:
        raise AssertionError("a bad line in the middle must be an error")


def test_log_survives_sigkill_mid_task(tmp_path):
    study = write_study(tmp_path)
    logs = tmp_path / "logs"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "tests.study.kill_driver", str(study), str(logs)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
    printed = []
    try:
        for line in child.stdout:
            t, kind = line.split()
            printed.append((float(t), kind))
            # Mid-task, while the participant types, and more than the flush window after task_start.
            if kind == "edit" and printed[-1][0] - next(p for p, k in printed if k == "task_start") > 1.0:
                break
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
    finally:
        child.kill()
        child.wait()
    for line in rest.splitlines():
        t, kind = line.split()
        printed.append((float(t), kind))
    files = list(logs.glob("*.jsonl"))
    assert len(files) == 1
    contents = read_log(files[0])  # parses (a torn last line would be skipped and reported)
    logged = Counter((e["t"], e["kind"]) for e in contents.events)
    last = max(t for t, _ in printed)
    must = Counter((t, k) for t, k in printed if t <= last - FLUSH_S)
    assert sum(must.values()) > 100
    missing = must - logged
    assert not missing, f"{sum(missing.values())} events older than {FLUSH_S} s before the kill were lost"
    assert "session_end" not in {e["kind"] for e in contents.events}
    assert all("text" not in e for e in contents.events)  # contents are logged only if the study opts in
    edits = [e for e in contents.events if e["kind"] == "edit"]
    assert edits and all(e["task"] == "wrap" or e["task"] == "calendar" for e in edits)
