"""`tessera [FILE] [--engine URL] [--model DIR] [--endpoint BASE_URL --endpoint-model NAME]`: the entry point.

Starts the engine as a child process (or connects to `--engine`), shows the window, and on quit
closes the connection, stops the engine (close stdin → terminate → kill) and cancels and gathers
every remaining task.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
from pathlib import Path

from app.core.link.client import EngineError
from app.core.link.engine_link import one_line


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

    from app.qt.assembly import assemble
    from app.qt.dialogs.model_picker import ModelPicker

    app = QApplication.instance()
    parts = assemble(engine_url=args.engine, token_file=args.token_file, model_dir=args.model,
                     endpoint=getattr(args, "endpoint_choice", None))
    window, link = parts.window, parts.link
    current = None
    if link.endpoint is not None:
        current = f"{link.endpoint.label} ({link.endpoint.transport})"
    elif args.model:
        current = f"{Path(args.model).name} (folder)"
    picker = ModelPicker(window, link.choose, current=current)  # noqa: F841 (lives as long as the window)
    closed = asyncio.Event()
    window.closing.connect(closed.set)
    if args.file:
        if Path(args.file).exists():
            window.open_path(args.file)
        else:
            window.start_new_file(str(Path(args.file).resolve()))  # saved there on Ctrl+S
    window.show()
    window.files.offer_recovery(args.file)  # unsaved text a killed Tessera left behind
    if args.presentation:
        window.presentation_action.setChecked(True)
    if args.race_lanes:
        window.demo.set_lanes(args.race_lanes)
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
    await parts.shutdown()
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
