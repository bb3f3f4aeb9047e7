"""Fixtures shared by all test folders: the tiny model and a real engine process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY_MODEL = ROOT / "resources" / "models" / "tiny-random"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    assert (TINY_MODEL / "model.onnx").is_file(), "run: python -m engine.model.tinymodel resources/models/tiny-random"
    return TINY_MODEL


class EngineProcess:
    """`tessera-engine serve` in a child process, as the app starts it."""

    def __init__(self, model_dir: Path, extra_args: tuple[str, ...] = ()):
        self.token = secrets.token_urlsafe(16)
        env = {**os.environ, "TESSERA_TOKEN": self.token, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--model", str(model_dir), *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True,
        )
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("ws://"):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.close()
            raise RuntimeError(f"engine did not start: {self.url!r} {err}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


@pytest.fixture(scope="module")
def engine_process(tiny_model_dir):
    eng = EngineProcess(tiny_model_dir)
    yield eng
    eng.close()


def trials(ci: int, by_hand: int) -> int:
    """How many times a reliability test repeats: `ci` in CI, `by_hand` with TESSERA_STRESS=1."""
    return by_hand if os.environ.get("TESSERA_STRESS") == "1" else ci


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory, monkeypatch):
    """Recovery files, settings and other state of the app go to folders of this test, not the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("TESSERA_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
