import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SRC = "def total(xs):\n    s = 0\n    for x in xs:\n        print(x)\n        s += x\n    return s\n"


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, **kw)


def test_generate_json_streams_token_events_and_a_done_summary(tmp_path, tiny_model_dir):
    src = tmp_path / "f.py"
    src.write_text(SRC)
    proc = cli("generate", "--model", str(tiny_model_dir), "--file", str(src), "--instruction", "remove prints",
               "--selection", "0:30", "--max-tokens", "25", "--seed", "4", "--temperature", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    done = events[-1]
    assert done["type"] == "done" and done["stats"]["tokens_out"] == 25
    assert done["stats"]["ttft_ms"] > 0 and done["stats"]["decode_tok_s"] > 0
    assert sum(e["count"] for e in events if e["type"] == "token") == 25


def test_generate_plain_text_and_bad_selection(tmp_path, tiny_model_dir):
    src = tmp_path / "f.py"
    src.write_text(SRC)
    ok = cli("generate", "--model", str(tiny_model_dir), "--file", str(src), "--instruction", "x", "--max-tokens", "5")
    assert ok.returncode == 0 and "tok/s" in ok.stderr
    bad = cli("generate", "--model", str(tiny_model_dir), "--file", str(src), "--instruction", "x",
              "--selection", "5:999")
    assert bad.returncode != 0 and "outside the file" in bad.stderr


def test_broken_model_folder_gives_a_clear_error(tmp_path):
    src = tmp_path / "f.py"
    src.write_text(SRC)
    proc = cli("generate", "--model", str(tmp_path / "missing"), "--file", str(src), "--instruction", "x")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_serve_prints_url_first_and_writes_a_token_when_none_given(tmp_path, tiny_model_dir):
    env = {k: v for k, v in __import__("os").environ.items() if k != "TESSERA_TOKEN"}
    token_file = tmp_path / "tok"
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--model", str(tiny_model_dir),
                             "--token-file", str(token_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("ws://127.0.0.1:")
        assert len(token_file.read_text().strip()) >= 32
        assert (token_file.stat().st_mode & 0o077) == 0  # readable by the user only
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0  # SIGTERM is a clean shutdown


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_serve_watching_stdin_still_stops_on_a_signal(tiny_model_dir, sig):
    import os
    import signal

    env = {**os.environ, "TESSERA_TOKEN": "t" * 24}
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--watch-stdin", "--model",
                             str(tiny_model_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        assert proc.stdout.readline().startswith("ws://")
        proc.send_signal(getattr(signal, sig))
        assert proc.wait(10) == 0  # stdin is still open: the stdin watcher must not hold the exit
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()
