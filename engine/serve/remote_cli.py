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


def generate_backend(args):
    """The remote backend ``generate --endpoint`` streams from, having said which it is."""
    endpoint = endpoint_from_args(args)
    print(f"tessera-engine: {endpoint.label} over {endpoint.transport}", file=sys.stderr)
    return make_backend(endpoint)
