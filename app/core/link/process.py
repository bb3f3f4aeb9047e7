"""The engine child process the app starts and owns. No Qt.

`EngineProcess` runs `python -m engine.cli serve --port 0 --watch-stdin [--model DIR]` with a fresh
random token handed over only in the child's environment (`TESSERA_TOKEN`, never argv), reads the
`ws://` URL from its first stdout line, reports its exit, and stops it cleanly. `read_token` finds
the token of an engine started elsewhere.
"""

from __future__ import annotations

import asyncio
import collections
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Callable

from wire import TOKEN_ENV, default_token_file, token_from_env

ENGINE_LOST = "engine_lost"

_PROJECT_ROOT = Path(__file__).resolve().parents[3]


class EngineError(Exception):
    """The engine refused something, or could not be reached; `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class EngineStartError(EngineError):
    """The engine process did not come up (bad model folder, crash on start, timeout)."""


class EngineProcess:
    """One engine child process: `python -m engine.cli serve --port 0 [--model DIR]`.

    The token is fresh per process and travels only through `TESSERA_TOKEN` in the child's
    environment. `on_exit(returncode)` is called on the event loop when the process ends, whether
    asked to or not; `stop()` closes its stdin (the engine then exits by itself), then
    terminates, then kills. Its pipes are read by the event loop itself: no reader threads, so no
    Python code runs off the GUI thread (PySide objects must never be collected there).
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str] | None = None,
        extra_args: tuple[str, ...] = (),  # further `serve` options, e.g. ("--threads", "2")
        python: str = sys.executable,
        on_exit: Callable[[int], None] | None = None,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir else None
        self.extra_args = tuple(extra_args)
        self.python = python
        self.on_exit = on_exit
        self.token = secrets.token_urlsafe(32)
        self.url: str | None = None
        self.stopping = False  # True once stop() was asked: the exit is then expected
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self._pumps: list[asyncio.Task[None]] = []

    @property
    def argv(self) -> list[str]:
        # --watch-stdin: the engine exits when our end of its stdin closes, even if we crash.
        argv = [self.python, "-m", "engine.cli", "serve", "--port", "0", "--watch-stdin"]
        if self.model_dir is not None:
            argv += ["--model", str(self.model_dir)]
        return argv + list(self.extra_args)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    def stderr_tail(self) -> str:
        """The engine's last log lines, for an error message when it dies."""
        return "".join(self._stderr_tail).strip()

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env[TOKEN_ENV] = self.token
        env["PYTHONUNBUFFERED"] = "1"  # the URL line must arrive before the process idles
        # Running from a checkout: make `engine` importable without installing.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
        )
        return env

    async def start(self, timeout_s: float = 60.0) -> str:
        """Start the process and return its `ws://` URL (its first stdout line)."""
        if self._proc is not None:
            raise RuntimeError("engine process already started")
        try:
            self._proc = proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=self._child_env(),
            )
        except OSError as exc:
            raise EngineStartError("spawn_failed", f"Could not start the engine: {exc}") from exc
        assert proc.stdout is not None and proc.stderr is not None
        self._pumps.append(asyncio.create_task(self._pump(proc.stderr, keep=True)))
        try:
            line = (await asyncio.wait_for(proc.stdout.readline(), timeout_s)).decode("utf-8", "replace")
        except asyncio.TimeoutError:
            await self.stop()
            raise EngineStartError(
                "start_timeout", f"The engine did not report its address within {timeout_s:.0f} s."
            ) from None
        url = line.strip()
        if not url.startswith(("ws://", "wss://")):
            try:
                await asyncio.wait_for(proc.wait(), 5.0)
                await asyncio.wait_for(asyncio.gather(*self._pumps), 1.0)
            except asyncio.TimeoutError:
                pass
            detail = self.stderr_tail() or url or "no output"
            await self.stop()
            raise EngineStartError("start_failed", f"The engine failed to start:\n{detail}")
        self.url = url
        self._pumps.append(asyncio.create_task(self._pump(proc.stdout, keep=False)))
        self._pumps.append(asyncio.create_task(self._watch_exit(proc)))
        return url

    async def _pump(self, stream: asyncio.StreamReader, keep: bool) -> None:
        # A pipe nobody reads fills up and blocks the engine mid-log; keep the tail for errors.
        try:
            while line := await stream.readline():
                if keep:
                    self._stderr_tail.append(line.decode("utf-8", "replace"))
        except (OSError, ValueError):
            pass

    async def _watch_exit(self, proc: asyncio.subprocess.Process) -> None:
        returncode = await proc.wait()
        if self.on_exit is not None:
            self.on_exit(returncode)

    async def stop(self, timeout_s: float = 5.0) -> int | None:
        """Close its stdin (it exits cleanly), then terminate, then kill; returns the exit code."""
        self.stopping = True
        proc = self._proc
        if proc is None:
            return None
        for ask in (self._close_stdin, proc.terminate, proc.kill):
            if proc.returncode is not None:
                break
            try:
                ask()
            except ProcessLookupError:
                pass
            try:
                await asyncio.wait_for(proc.wait(), timeout_s)
            except asyncio.TimeoutError:
                continue
        await asyncio.gather(*self._pumps, return_exceptions=True)
        return proc.returncode

    def _close_stdin(self) -> None:
        if self._proc is not None and self._proc.stdin is not None:
            self._proc.stdin.close()

    def stop_now(self) -> None:
        """Synchronous last resort (interpreter exit): no child outlives the app."""
        self.stopping = True
        if self._proc is not None and self._proc.returncode is None:
            try:
                os.kill(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def read_token(token_file: str | os.PathLike[str] | None = None) -> str:
    """The token for an engine started elsewhere: `TESSERA_TOKEN`, else the token file."""
    if token_file is not None:
        path = Path(token_file).expanduser()
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise EngineError("bad_token_file", f"Cannot read the token file {path}: {exc}") from exc
        if not token:
            raise EngineError("bad_token_file", f"The token file {path} is empty.")
        return token
    token = token_from_env()
    if token:
        return token
    default = default_token_file()
    if default.is_file():
        return read_token(default)
    raise EngineError(
        "no_token",
        f"Connecting to an existing engine needs its token: set {TOKEN_ENV} or pass a token file "
        f"(a local `tessera-engine serve` writes one to {default}).",
    )
