"""The engine the app talks to: a child process it owns, or one started elsewhere. No Qt.

`EngineLink` starts (or reaches) the engine, connects an `EngineClient` wired to the controller's
callbacks, and restarts it on another model. It tells the user through a `StatusView` (the window).
"""

from __future__ import annotations

import atexit
from typing import Any, Protocol

from app.core.edit.controller import EditController
from app.core.link.client import EngineClient, EngineError, EngineInfo, EngineProcess, read_token


class StatusView(Protocol):
    """What the link shows: the engine in use, and what happened to it."""

    def set_engine_info(self, info: EngineInfo | None, where: str = "") -> None: ...
    def show_status(self, text: str, level: str = "info") -> None: ...


class EngineLink:
    """The engine the window talks to: a child process we own, or one started elsewhere."""

    def __init__(self, window: StatusView, controller: EditController, engine_url: str | None = None,
                 token_file: str | None = None, model_dir: str | None = None, endpoint: Any = None,
                 engine_args: tuple[str, ...] = ()) -> None:
        self.window = window
        self.controller = controller
        self.engine_args = tuple(engine_args)  # further `serve` options (a study's response cache)
        self.engine_url = engine_url
        self.token_file = token_file
        self.model_dir = model_dir
        self.endpoint = endpoint  # engine.backends.endpoints.Endpoint: the child engine relays to it instead
        self.process: EngineProcess | None = None
        self.client: EngineClient | None = None

    async def connect(self) -> EngineClient:
        """(Re)start the engine if it is ours, connect, and hand the client to the controller."""
        await self.close()
        if self.engine_url:
            url, token = self.engine_url, read_token(self.token_file)
        else:
            self.process = EngineProcess(self.model_dir, extra_args=(*endpoint_args(self.endpoint), *self.engine_args),
                                         on_exit=self._engine_exited)
            atexit.register(self.process.stop_now)
            url = await self.process.start()
            token = self.process.token
        controller = self.controller
        # No `on_ready`: the controller takes each `ready` from the request it sent (once, not twice).
        client = EngineClient(on_closed=controller.engine.engine_lost, on_message=self._unrouted)
        info = await client.connect(url, token)
        self.client = client
        self.window.set_engine_info(info, url.removeprefix("ws://"))
        return client

    def _engine_exited(self, returncode: int) -> None:
        process = self.process
        if process is None or process.stopping:
            return
        tail = process.stderr_tail().splitlines()[-1:] or [f"exit code {returncode}"]
        self.window.set_engine_info(None, "stopped")
        self.window.show_status(
            f"The engine stopped unexpectedly ({tail[0]}). Your text is untouched; the next "
            "instruction restarts it.", "error")

    def _unrouted(self, msg: dict) -> None:
        # A stop that crossed its request's end is answered `unknown_request`: nothing went wrong.
        if msg.get("type") == "error" and msg.get("code") != "unknown_request":
            self.window.show_status(f"Engine: {msg.get('message', msg.get('code'))}", "error")

    async def start(self) -> None:
        """Connect and open the window's document in the engine."""
        controller = self.controller
        controller.engine.attach(await self.connect())
        await controller.engine.open_document()

    async def start_or_fall_back(self) -> str | None:
        """`start`; if our engine cannot load the chosen model folder, start it on the bundled
        model instead. Returns the one-line reason for a fallback (None: the chosen model runs)."""
        try:
            await self.start()
            return None
        except EngineError as exc:
            if self.engine_url or self.model_dir is None:
                raise
            reason = one_line(exc.message)
        chosen, self.model_dir = self.model_dir, None
        await self.start()
        self.window.show_status(f"The model in {chosen} could not be loaded ({reason}); "
                                "using the bundled model instead.", "warn")
        return reason

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None
        if self.process is not None:
            await self.process.stop()
            atexit.unregister(self.process.stop_now)
            self.process = None

    async def switch_model(self, model_dir: str | None, endpoint=None) -> None:
        """Restart the child engine on `model_dir`, or relaying to `endpoint`."""
        if self.engine_url:
            self.window.show_status("The model of a remote engine is chosen where it runs.", "warn")
            return
        previous = (self.model_dir, self.endpoint)
        self.model_dir, self.endpoint = model_dir, endpoint
        what = endpoint.label if endpoint is not None else f"the model in {model_dir}"
        self.window.show_status(f"Loading {what}…")
        try:
            await self.start()
        except EngineError as exc:
            # Back to the model that worked, so the user keeps an engine.
            self.model_dir, self.endpoint = previous
            try:
                await self.start()
            except EngineError:
                pass
            self.window.show_status(f"Could not load that model: {one_line(exc.message)}", "error")
            return
        self.window.show_status(f"Loaded {self.client.info.model_name if self.client else what}.", "ok")

    def choose(self, choice) -> None:
        """A model picker entry (app/core/model_choices.py) was chosen."""
        if choice.kind == "endpoint":
            self.controller.spawn(self.switch_model(None, choice.endpoint))
        else:
            self.controller.spawn(self.switch_model(choice.folder))


def endpoint_args(endpoint) -> tuple[str, ...]:
    """`serve` options that make the child engine relay to `endpoint` (its key stays out of argv)."""
    if endpoint is None:
        return ()
    return ("--endpoint", endpoint.base_url, "--endpoint-model", endpoint.model, "--transport", endpoint.transport)


def one_line(message: str) -> str:
    """The telling line of an engine's start failure (its last error line, never a traceback)."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Traceback", "File \"", "^", "~"))
              and not ln.endswith(":")]
    line = (useful or lines or ["unknown error"])[-1]
    return line if len(line) <= 200 else line[:199] + "…"
