"""Engine processes serving the OpenAI API, with their logs, for the API tests."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

from engine.model.modelspec import MODELS_DIR

ROOT = Path(__file__).resolve().parents[2]
MAX_BODY = 256 * 1024  # request bodies larger than this are refused (--max-message-bytes)


class ApiEngine:
    """`tessera-engine serve` with its log in a file, and a client for its OpenAI API."""

    def __init__(self, model: str, log_path: Path):
        self.token = secrets.token_urlsafe(16)
        self.log_path = log_path
        self.log = open(log_path, "w")
        env = {**os.environ, "TESSERA_TOKEN": self.token, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--model", str(MODELS_DIR / model),
             "--log-level", "info", "--max-message-bytes", str(MAX_BODY)],
            stdout=subprocess.PIPE, stderr=self.log, env=env, cwd=ROOT, text=True)
        url = self.proc.stdout.readline().strip()
        assert url.startswith("ws://"), log_path.read_text()
        self.ws_url = url
        self.base_url = url.replace("ws://", "http://") + "/v1"
        self.client = openai.OpenAI(base_url=self.base_url, api_key=self.token, max_retries=0)

    def async_client(self, key: str | None = None) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.base_url, api_key=key or self.token, max_retries=0)

    def log_line(self, request_id: str, timeout_s: float = 30.0) -> str:
        """The engine's log line for a finished request (waits for it to be written)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.log_path.read_text().splitlines():
                if request_id in line and "tokens computed" in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no log line for {request_id}: {self.log_path.read_text()[-2000:]}")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    eng = ApiEngine("tessera-edit-mini", tmp_path_factory.mktemp("api") / "engine.log")
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    """The random-weight model: it writes until its budget, so a stop always lands mid-stream."""
    eng = ApiEngine("tiny-random", tmp_path_factory.mktemp("noisy") / "engine.log")
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    """An in-process engine on the random-weight test model, shared by a module's tests
    (a module that needs another model defines its own `engine`)."""
    from engine.decode.session import Engine

    eng = Engine(tiny_model_dir)
    yield eng
    eng.close()
