"""``tessera-engine``: serve | generate | bench | emulate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from wire import default_token_file, token_from_env

from .model.modelspec import ModelFolderError, default_model_dir


def _model_dir(arg: str | None) -> Path:
    return Path(arg) if arg else default_model_dir()


def _read_token(args) -> tuple[str, str | None]:
    """(token, where it was written) from TESSERA_TOKEN, --token-file, or a fresh one."""
    env = token_from_env()
    if env:
        return env, None
    if args.token_file:
        path = Path(args.token_file).expanduser()
        if path.is_file():
            token = path.read_text(encoding="utf-8").strip()
            if not token:
                raise SystemExit(f"tessera-engine: token file {path} is empty")
            return token, None
    token = secrets.token_urlsafe(32)
    path = Path(args.token_file).expanduser() if args.token_file else default_token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token, str(path)


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` when stdin reaches its end.

    Runs in a daemon thread, not the loop's executor (closing the loop waits for executor threads,
    so a SIGTERM would hang until stdin closed), and reads the raw descriptor: a daemon thread
    blocked inside ``sys.stdin.buffer`` holds its lock and aborts the interpreter's shutdown.
    """
    try:
        while os.read(sys.stdin.fileno(), 65536):
            pass
    except (OSError, ValueError):
        pass
    try:
        loop.call_soon_threadsafe(stop.set)
    except RuntimeError:  # the loop has already closed
        pass


async def _serve(args) -> int:
    from .backends.onnx import OnnxBackend
    from .serve.explicit_timing import with_explicit_timing
    from .serve.server import ServerConfig, server_port, start_server
    from .decode.session import Engine
    from .serve.pacing import make_pacing

    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(), format="tessera-engine: %(message)s")
    logging.getLogger("websockets").setLevel(max(logging.WARNING, logging.getLogger().level))
    token, written = _read_token(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    config = ServerConfig(host=args.host, port=args.port, token=token,
                          max_message_bytes=args.max_message_bytes, allowed_origins=tuple(args.allow_origin),
                          openai_api=not args.no_openai_api)
    if args.endpoint and args.responses:
        raise SystemExit("tessera-engine: --responses replays through the local model; leave out --endpoint")
    if args.endpoint:  # relay to a remote OpenAI-compatible server instead of a local model
        from .serve.remote_cli import endpoint_from_args, start_backend

        backend = await start_backend(endpoint_from_args(args))
    else:
        engine = Engine(_model_dir(args.model), threads=args.threads)
        engine.warmup()
        backend = OnnxBackend(engine, with_explicit_timing(make_pacing))
    if args.responses:  # a study's recorded responses (engine/backends/replay.py)
        from .backends.replay import ReplayBackend
        from .backends.response_cache import ResponseCache

        try:
            cache = ResponseCache(args.responses)
        except ValueError as exc:
            backend.close()
            raise SystemExit(f"tessera-engine: {exc}") from None
        backend = ReplayBackend(backend, cache, args.responses_mode)
    server = await start_server(backend, config)
    host = args.host if ":" not in args.host else f"[{args.host}]"
    print(f"ws://{host}:{server_port(server)}", flush=True)
    if written:
        print(f"tessera-engine: token written to {written}", file=sys.stderr, flush=True)
    if args.watch_stdin:  # the parent app holds our stdin: when it goes away, so do we
        threading.Thread(target=_watch_stdin, args=(loop, stop), name="tessera-watch-stdin", daemon=True).start()
    await stop.wait()
    server.close()
    await server.wait_closed()
    await backend.aclose()
    return 0


def run_loop(main) -> int:
    """Run the server's coroutine on uvloop where it is installed, else on asyncio's own loop.

    uvloop's loop (libuv, in Cython) cuts the server's share of each WebSocket round trip: a small
    frame in, a small frame out. ``TESSERA_LOOP=asyncio`` forces the standard loop.
    """
    if os.environ.get("TESSERA_LOOP", "").strip().lower() != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(main)
    return asyncio.run(main)


def _parse_selection(text: str | None, n: int) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        a, b = text.split(":")
        start = int(a) if a else 0
        end = int(b) if b else n
    except ValueError:
        raise SystemExit(f"tessera-engine: --selection must be START:END, got {text!r}") from None
    if not 0 <= start <= end <= n:
        raise SystemExit(f"tessera-engine: selection {start}:{end} is outside the file (0:{n})")
    return start, end


async def _generate(args) -> int:
    from .backends.onnx import OnnxBackend
    from .decode.session import Engine
    from .serve.cli_stream import generate_one

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"tessera-engine: cannot read {path}: {exc}") from None
    selection = _parse_selection(args.selection, len(text))
    if args.endpoint:
        from .serve.remote_cli import generate_backend

        backend = generate_backend(args)
    else:
        engine = Engine(_model_dir(args.model), threads=args.threads)
        engine.warmup()
        backend = OnnxBackend(engine)
    return await generate_one(args, backend, text, str(path), selection, prewarm=bool(args.endpoint))


def build_parser() -> argparse.ArgumentParser:
    from .serve.remote_cli import add_endpoint_args

    parser = argparse.ArgumentParser(prog="tessera-engine", description="Tessera's inference engine")
    sub = parser.add_subparsers(dest="command", required=True)

    def model_args(p):
        p.add_argument("--model", help="model folder (default: the bundled model)")
        p.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads (default 1)")

    s = sub.add_parser("serve", help="serve the WebSocket protocol")
    model_args(s)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help="0 = a free port")
    s.add_argument("--token-file", help="read the token from this file (or write a fresh one there)")
    s.add_argument("--max-message-bytes", type=int, default=8 * 1024 * 1024)
    s.add_argument("--allow-origin", action="append", default=[], help="a web origin to allow (repeatable)")
    s.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes (child of the app)")
    add_endpoint_args(s)
    s.add_argument("--no-openai-api", action="store_true", help="serve the native WebSocket protocol only")
    s.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"],
                   help="engine log on stderr (info: one line per OpenAI API request)")
    s.add_argument("--responses", metavar="PATH", help="a response cache (studies): record into it or replay from it")
    s.add_argument("--responses-mode", choices=("record", "replay"), default="replay",
                   help="record: run live and store outputs; replay: serve stored outputs, live otherwise")

    g = sub.add_parser("generate", help="stream one edit to stdout")
    model_args(g)
    g.add_argument("--file", required=True)
    g.add_argument("--instruction", required=True)
    g.add_argument("--selection", help="START:END character offsets (default: whole file)")
    g.add_argument("--max-tokens", type=int)
    g.add_argument("--seed", type=int)
    g.add_argument("--temperature", type=float, default=0.0)
    g.add_argument("--top-p", type=float, default=1.0)
    g.add_argument("--no-speculate", action="store_true")
    g.add_argument("--json", action="store_true", help="one JSON object per event")
    add_endpoint_args(g)

    try:
        from .wafer.cli import add_emulate_parser
    except ImportError:
        add_emulate_parser = None
    if add_emulate_parser is not None:
        add_emulate_parser(sub)
    try:
        from .bench.cli import add_bench_parser
    except ImportError:
        add_bench_parser = None
    if add_bench_parser is not None:
        add_bench_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return run_loop(_serve(args))
        if args.command == "generate":
            return asyncio.run(_generate(args))
        if args.command == "emulate":
            from .wafer.cli import run_emulate

            return run_emulate(args)
        if args.command == "bench":
            from .bench.cli import run_bench

            return run_bench(args)
    except ModelFolderError as exc:
        print(f"tessera-engine: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
