"""`tessera [FILE] [--engine URL] [--model DIR] [--endpoint BASE_URL --endpoint-model NAME]`: the entry point.

Starts the engine as a child process (or connects to `--engine`), shows the window, and on quit
closes the connection, stops the engine (close stdin → terminate → kill) and cancels and gathers
every remaining task.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import functools
import sys
from pathlib import Path

from app.core.link.client import EngineClient, EngineError, EngineProcess, read_token


class EngineLink:
    """The engine the window talks to: a child process we own, or one started elsewhere."""

    def __init__(self, window, engine_url: str | None = None, token_file: str | None = None,
                 model_dir: str | None = None, endpoint=None, engine_args: tuple[str, ...] = ()) -> None:
        self.window = window
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
        controller = self.window.controller
        client = EngineClient(on_ready=controller.on_ready, on_closed=controller.engine_lost,
                              on_message=self._unrouted)
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
        controller = self.window.controller
        controller.attach(await self.connect())
        await controller.open_document()

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
            self.window.controller.spawn(self.switch_model(None, choice.endpoint))
        else:
            self.window.controller.spawn(self.switch_model(choice.folder))


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tessera", description="Real-time AI pair programming")
    parser.add_argument("file", nargs="?", help="a file to open")
    parser.add_argument("--engine", metavar="URL", help="connect to a running engine (ws://host:port); "
                        "token from TESSERA_TOKEN or --token-file")
    parser.add_argument("--token-file", metavar="PATH", help="the running engine's token file")
    parser.add_argument("--model", metavar="DIR", help="model folder for the engine (default: bundled)")
    parser.add_argument("--endpoint", metavar="BASE_URL", help="edit through an OpenAI-compatible server "
                        "(e.g. http://127.0.0.1:8080/v1); key from OPENAI_API_KEY or the endpoints config")
    parser.add_argument("--endpoint-model", metavar="NAME", help="the model name that server expects")
    parser.add_argument("--transport", choices=("http", "websocket"), help="to the endpoint (default: http)")
    parser.add_argument("--presentation", action="store_true", help="start in presentation mode")
    parser.add_argument("--demo", metavar="PLAYLIST", help="play a demo playlist (a shipped name such "
                        "as gpu-vs-wafer, or a .toml path); Page Down runs the next step")
    parser.add_argument("--race", metavar="LANES", help="lanes for View → Race this edit: "
                        "PROFILE[:MODEL],PROFILE[:MODEL][,...] (default h100x8:llama-3.1-70b,wse-3:llama-3.1-70b)")
    return parser


async def amain(args: argparse.Namespace) -> int:
    from PySide6.QtWidgets import QApplication

    from app.qt.mainwindow import MainWindow

    app = QApplication.instance()
    window = MainWindow()
    link = EngineLink(window, args.engine, args.token_file, args.model, getattr(args, "endpoint_choice", None))
    controller = window.controller
    controller.ensure_engine = link.connect
    window.modelFolderChosen.connect(lambda d: controller.spawn(link.switch_model(d)))
    from app.qt.dialogs.model_picker import ModelPicker

    window.model_picker = ModelPicker(window, link.choose)
    if link.endpoint is not None:
        window.model_picker.current = f"{link.endpoint.label} ({link.endpoint.transport})"
    elif args.model:
        window.model_picker.current = f"{Path(args.model).name} (folder)"
    closed = asyncio.Event()
    window.closing.connect(closed.set)
    if args.file:
        if Path(args.file).exists():
            window.open_path(args.file)
        else:
            window.path = str(Path(args.file).resolve())  # a new file: saved there on Ctrl+S
            window._update_title()
    window.show()
    window.files.offer_recovery(args.file)  # unsaved text a killed Tessera left behind
    if args.presentation:
        window.presentation_action.setChecked(True)
    if args.race_lanes:
        window.demo.lanes = args.race_lanes
    window.show_status("Starting the engine…")
    try:
        if await link.start_or_fall_back() is None:
            window.show_status("Ready. Select code (or put the cursor in a function), press Ctrl+K, "
                               "describe the edit, press Enter.", "ok")
        if args.playlist is not None:
            window.demo.play(args.playlist)
    except EngineError as exc:
        window.set_engine_info(None, "not running")
        window.show_status(f"The engine did not start: {one_line(exc.message)}", "error")
    app.lastWindowClosed.connect(closed.set)
    await closed.wait()
    await shutdown(controller, link)
    return 0


def check_demo_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Load `--demo`'s playlist and parse `--race`'s lanes now: a bad one is a clear error and exit 2."""
    from app.core.demo.playlist import PlaylistError, find_playlist, load_playlist
    from app.core.demo.race import parse_lanes

    args.playlist = args.race_lanes = None
    try:
        if args.demo:
            args.playlist = load_playlist(find_playlist(args.demo))
        if args.race:
            args.race_lanes = parse_lanes(args.race)
    except (PlaylistError, ValueError) as exc:
        parser.error(str(exc))


def endpoint_from_args(args: argparse.Namespace):
    if not getattr(args, "endpoint", None):
        return None
    from engine.backends.endpoints import EndpointError, resolve_endpoint

    if not args.endpoint_model:
        raise SystemExit("tessera: --endpoint needs --endpoint-model NAME")
    try:
        return resolve_endpoint(args.endpoint, args.endpoint_model, args.transport)
    except EndpointError as exc:
        raise SystemExit(f"tessera: {exc}") from None


async def shutdown(controller, link: EngineLink) -> None:
    """Cancel the controller's tasks, close the connection, stop the engine, gather the rest."""
    tasks = controller.cancel_tasks()
    await asyncio.gather(*tasks, return_exceptions=True)
    await controller.close_document()
    await link.close()
    current = asyncio.current_task()
    rest = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["study"] and not Path("study").is_file():  # `tessera study ...` (a file named study opens)
        from .study.cli import main as study_main

        return study_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    check_demo_args(parser, args)
    from app.core.platform_check import display_problem

    problem = display_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    args.endpoint_choice = endpoint_from_args(args)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Tessera")
    app.setQuitOnLastWindowClosed(False)  # amain decides when to stop, after the engine is down
    try:
        # asyncio.run(..., loop_factory=...) needs 3.12; asyncio.Runner takes it on 3.11 too.
        with asyncio.Runner(loop_factory=functools.partial(qasync.QEventLoop, app)) as runner:
            return runner.run(amain(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
