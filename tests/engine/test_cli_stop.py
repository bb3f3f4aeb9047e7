"""Ctrl+C during ``tessera-engine generate``: the request stops through the backend, output so far is kept."""

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.foreign import FOREIGN

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
SRC = "def total(xs):\n    s = 0\n    for x in xs:\n        print(x)\n        s += x\n    return s\n"
MAX_TOKENS = 4000  # far more than a stopped request reaches


def start_generate(model, src, *extra, env=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    where = ["--model", str(model)] if model else []
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "generate", *where, "--file", str(src),
                             "--instruction", "remove prints", "--max-tokens", str(MAX_TOKENS), "--temperature", "1",
                             "--seed", "3", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env)


@pytest.mark.parametrize("model", ["tiny", FOREIGN / "llama3-genai-int4", "http", "websocket"],
                         ids=["tiny-random", "llama3-genai-int4", "endpoint-http", "endpoint-websocket"])
def test_sigint_while_streaming_json_ends_with_a_stop_done_and_exit_130(tmp_path, tiny_model_dir, model,
                                                                         engine_process):
    src = tmp_path / "f.py"
    src.write_text(SRC)
    if model in ("http", "websocket"):  # the serving engine's OpenAI API as a remote server
        base = engine_process.url.replace("ws://", "http://") + "/v1"
        proc = start_generate(None, src, "--json", "--endpoint", base, "--endpoint-model", tiny_model_dir.name,
                              "--transport", model, env={"OPENAI_API_KEY": engine_process.token})
    else:
        proc = start_generate(tiny_model_dir if model == "tiny" else model, src, "--json")
    try:
        events = []
        for line in proc.stdout:  # wait for the first token, then interrupt
            events.append(json.loads(line))
            if events[-1]["type"] == "token":
                break
        assert events and events[-1]["type"] == "token", proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        events += [json.loads(line) for line in proc.stdout]
        assert proc.wait(60) == 130, proc.stderr.read()
    finally:
        proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    done = events[-1]
    assert done["type"] == "done" and done["reason"] == "stop"
    streamed = sum(e["count"] for e in events if e["type"] == "token")
    assert done["stats"]["tokens_out"] == streamed < MAX_TOKENS  # every computed token was printed; no more were computed
    assert done["text"] == "".join(e["text"] for e in events if e["type"] == "token")


def test_sigint_plain_text_keeps_the_output_and_reports_stop(tmp_path, tiny_model_dir):
    src = tmp_path / "f.py"
    src.write_text(SRC)
    proc = start_generate(tiny_model_dir, src)
    try:
        assert proc.stdout.read(1)  # the first token's text has arrived
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "[stop]" in err and "Traceback" not in err
    tokens = int(err.split("[stop] ")[1].split(" tokens")[0])
    assert 0 < tokens < MAX_TOKENS
