"""``--endpoint`` for ``tessera-engine generate`` and ``serve``: a remote server instead of the local model."""

from __future__ import annotations

import sys

from ..backends.endpoints import TRANSPORTS, Endpoint, EndpointError, resolve_endpoint


def add_endpoint_args(p) -> None:
    p.add_argument("--endpoint", metavar="BASE_URL",
                   help="relay to an OpenAI-compatible server (e.g. http://127.0.0.1:8080/v1) instead of the "
                        "local model; key from OPENAI_API_KEY or the endpoints config file")
    p.add_argument("--endpoint-model", metavar="NAME", help="the model name the server expects")
    p.add_argument("--transport", choices=TRANSPORTS, default=None,
                   help="http (Chat Completions, SSE) or websocket (Responses WebSocket mode; falls back to http)")
    p.add_argument("--endpoint-timeout", type=float, default=None, metavar="S",
                   help="longest wait in seconds for the server's next event (default 60)")


def endpoint_from_args(args) -> Endpoint:
    if not args.endpoint_model:
        raise SystemExit("tessera-engine: --endpoint needs --endpoint-model NAME")
    try:
        ep = resolve_endpoint(args.endpoint, args.endpoint_model, args.transport)
        if args.endpoint_timeout is not None:
            ep.timeout_s = args.endpoint_timeout
            ep.__post_init__()
    except EndpointError as exc:
        raise SystemExit(f"tessera-engine: {exc}") from None
    return ep


def make_backend(endpoint: Endpoint):
    """The backend for `endpoint`'s transport."""
    if endpoint.transport == "websocket":
        from ..backends.responses_ws import ResponsesSocketBackend

        return ResponsesSocketBackend(endpoint)
    from ..backends.openai_http import ChatCompletionsBackend

    return ChatCompletionsBackend(endpoint)


async def start_backend(endpoint: Endpoint):
    """The backend for `endpoint`, having asked the server what it serves (context length)."""
    backend = make_backend(endpoint)
    await backend.probe()
    return backend


async def generate_remote(args, text: str, path: str, selection) -> int:
    """One edit through a remote server, printed as ``generate`` prints a local one."""
    from .cli_stream import print_events
    from ..decode.sampling import SamplingParams
    from ..decode.session import Document, RequestError
    from ..backends import GenerateRequest

    endpoint = endpoint_from_args(args)
    backend = make_backend(endpoint)
    print(f"tessera-engine: {endpoint.label} over {endpoint.transport}", file=sys.stderr)
    try:
        backend.open("cli", Document(text, path))
        await backend.prewarm("cli")
        request = GenerateRequest("cli", "cli-1", args.instruction, selection, args.max_tokens,
                                  SamplingParams(args.temperature, args.top_p, args.seed),
                                  speculate=not args.no_speculate)
        return await print_events(args, backend, request.request, backend.generate(request), remote=True)
    except RequestError as exc:
        print(f"tessera-engine: {exc}", file=sys.stderr)
        return 2
    finally:
        await backend.aclose()
