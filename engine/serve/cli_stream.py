"""``tessera-engine generate``'s output: a request's events printed as they stream, Ctrl+C stopping it.

SIGINT while streaming goes through the backend seam (``backend.stop``), so the engine or the
remote server computes no further token; the stream then ends with its own ``done`` (reason
``stop``), which is printed like any other, and the command exits 130.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys

STOPPED_RC = 130  # what a shell reports for a command ended by SIGINT


@contextlib.contextmanager
def _sigint_stops(backend, request: str):
    """While the block runs, SIGINT asks `backend` to stop `request` instead of raising KeyboardInterrupt."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, backend.stop, request)
    except (NotImplementedError, RuntimeError):  # no loop signal handlers (Windows): KeyboardInterrupt as before
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _done_line(ev) -> str:
    s = ev.stats
    line = f"[{ev.reason}] {s.tokens_out} tokens, TTFT {s.ttft_ms} ms, {s.decode_tok_s} tok/s"
    if s.backend == "remote":  # an endpoint computed the tokens: say how they came
        pred = (f", prediction {s.draft_accepted_tokens}/{s.draft_proposed_tokens} accepted"
                if s.draft_proposed_tokens else "")
        line += f", via {s.transport}{pred}"
    return line


async def generate_one(args, backend, text: str, path: str, selection, prewarm: bool = False) -> int:
    """One edit of `text` through any backend (engine/backends/), printed as it streams; the exit code.

    `prewarm`: prepare the session first (a remote backend opens its connection before the clock runs).
    """
    from ..backends import GenerateRequest
    from ..decode.documents import Document, RequestError
    from ..decode.sampling import SamplingParams

    try:
        backend.open("cli", Document(text, path))
        if prewarm:
            await backend.prewarm("cli")
        request = GenerateRequest("cli", "cli-1", args.instruction, selection, args.max_tokens,
                                  SamplingParams(args.temperature, args.top_p, args.seed),
                                  speculate=not args.no_speculate)
        return await print_events(args, backend, request.request, backend.generate(request))
    except RequestError as exc:
        print(f"tessera-engine: {exc}", file=sys.stderr)
        return 2
    finally:
        await backend.aclose()


async def print_events(args, backend, request: str, events) -> int:
    """Print `events` (plain text, or one JSON object a line with ``--json``); the exit code."""
    rc = 0
    with _sigint_stops(backend, request):
        async for ev in events:
            if args.json:
                msg = ev.to_message()
                print(json.dumps(msg), flush=True)
            elif ev.type == "token":
                sys.stdout.write(ev.text)
                sys.stdout.flush()
            elif ev.type == "notice":
                print(f"tessera-engine: {ev.message}", file=sys.stderr)
            elif ev.type == "done":
                if ev.text and not ev.text.endswith("\n"):
                    print()
                print(_done_line(ev), file=sys.stderr, flush=True)
            if ev.type == "done" and ev.reason == "error":
                print(f"tessera-engine: {ev.stats.error.message if ev.stats.error else 'failed'}", file=sys.stderr)
                rc = 1
            elif ev.type == "done" and ev.reason == "stop":
                rc = STOPPED_RC
    return rc
