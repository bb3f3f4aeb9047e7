"""``POST /v1/chat/completions`` and ``POST /v1/completions``, streaming (SSE) and not."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from ...decode.sampling import SamplingParams
from .edits import Edit, closing, find_edit, opening, strip_fence
from .errors import bad, field, number, positive_int, text_of
from .run import EditParams, EditRun, Outcome, new_id

if TYPE_CHECKING:
    from ..httpfront import HttpExchange
    from .api import OpenAIApi

UNSUPPORTED = ("audio", "modalities")


def sse(obj: dict) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def edit_params(body: dict) -> EditParams:
    """Sampling, budget, stop sequences and prediction, checked (shared by every endpoint)."""
    for name in UNSUPPORTED:
        if body.get(name):
            raise bad(f"'{name}' is not supported: this engine serves code edit models", name, "unsupported_parameter")
    choice = body.get("tool_choice", body.get("function_call"))
    if (body.get("tools") or body.get("functions")) and choice not in (None, "auto", "none"):
        # Tools may be offered (agent clients always offer theirs): the model answers in text and
        # never calls one. A client that demands a call gets a clear refusal instead.
        raise bad("this engine's models never call tools: 'tool_choice' can only be 'auto' or 'none'",
                  "tool_choice", "unsupported_value")
    if field(body, "n", int, 1) != 1:
        raise bad("'n' must be 1", "n", "unsupported_value")
    fmt = field(body, "response_format", dict)
    if fmt is not None and fmt.get("type") not in (None, "text"):
        raise bad("only the 'text' response format is supported", "response_format", "unsupported_value")
    temperature = number(body, "temperature", 0.0, 2.0, 0.0)
    top_p = number(body, "top_p", 0.0, 1.0, 1.0)
    if top_p == 0.0:
        raise bad("'top_p' must be greater than 0", "top_p")
    seed = field(body, "seed", int)
    stop = body.get("stop")
    if stop is None:
        stops: tuple[str, ...] = ()
    elif isinstance(stop, str):
        stops = (stop,)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop) and len(stop) <= 4:
        stops = tuple(stop)
    else:
        raise bad("'stop' must be a string or an array of up to 4 strings", "stop")
    if any(not s for s in stops):
        raise bad("'stop' sequences must not be empty", "stop")
    prediction = None
    pred = field(body, "prediction", dict)
    if pred is not None:
        if pred.get("type") != "content":
            raise bad("'prediction.type' must be 'content'", "prediction.type")
        prediction = strip_fence(text_of(pred.get("content"), "prediction.content"))
    return EditParams(positive_int(body, "max_completion_tokens", "max_tokens", "max_output_tokens"),
                      SamplingParams(temperature, top_p, seed), prediction, stops)


def chat_messages(body: dict) -> list[tuple[str, str]]:
    messages = field(body, "messages", list, required=True)
    if not messages:
        raise bad("'messages' must not be empty", "messages")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise bad(f"'messages[{i}]' must be an object with a 'role'", f"messages[{i}]")
        out.append((m["role"], text_of(m.get("content"), f"messages[{i}].content")))
    return out


def usage(out: Outcome) -> dict:
    return {"prompt_tokens": out.prompt_tokens, "completion_tokens": out.completion_tokens,
         "total_tokens": out.prompt_tokens + out.completion_tokens,
         "prompt_tokens_details": {"cached_tokens": out.cached_tokens},
         "completion_tokens_details": {"reasoning_tokens": 0,
                                       "accepted_prediction_tokens": out.accepted_prediction_tokens,
                                       "rejected_prediction_tokens": out.rejected_prediction_tokens}}


async def chat_completions(api: OpenAIApi, ex: HttpExchange, body: dict, completions: bool = False) -> None:
    model = api.model_of(body)
    params = edit_params(body)
    if completions:
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise bad("'prompt' must be a string", "prompt", "invalid_type")
        messages = [("user", prompt)]
    else:
        messages = chat_messages(body)
    stream = bool(field(body, "stream", bool, False))
    include_usage = bool(field(field(body, "stream_options", dict, {}), "include_usage", bool, False))
    rid = new_id("cmpl-" if completions else "chatcmpl-")
    edit = find_edit(messages)
    run = None
    if isinstance(edit, Edit):
        run = EditRun(api.backend, edit, params, rid)
        await run.start()
        ex.on_close(lambda: run.stop(client_gone=True))
    created = int(time.time())
    base = {"id": rid, "object": "text_completion" if completions else "chat.completion", "created": created,
            "model": model.id, "system_fingerprint": None}

    def choice(text: str | None, finish: str | None, first: bool = False) -> dict:
        if completions:
            return {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}
        if not stream:
            return {"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None, "finish_reason": finish}
        delta = {"role": "assistant", "content": text or ""} if first else ({"content": text} if text else {})
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    pieces = answer_pieces(run, edit, model.id)
    if not stream:
        text = "".join([p async for p in pieces])
        out = run.outcome if run else Outcome()
        await api.json(ex, 200, {**base, "choices": [choice(text, out.finish_reason)], "usage": usage(out)})
        return
    chunk = {**base, "object": "text_completion" if completions else "chat.completion.chunk"}
    extra = {"usage": None} if include_usage else {}
    await ex.start(200, "text/event-stream", [("cache-control", "no-cache")])
    if not completions:
        await ex.write(sse({**chunk, "choices": [choice("", None, first=True)], **extra}))
    async for piece in pieces:
        await ex.write(sse({**chunk, "choices": [choice(piece, None)], **extra}))
    out = run.outcome if run else Outcome()
    if out.reason == "error" and out.error:
        await ex.write(sse({"error": {"message": out.error.get("message"), "type": "server_error",
                                      "code": out.error.get("code")}}))
    await ex.write(sse({**chunk, "choices": [choice(None, out.finish_reason)], **extra}))
    if include_usage:
        await ex.write(sse({**chunk, "choices": [], "usage": usage(out)}))
    await ex.write(b"data: [DONE]\n\n")
    await ex.end()


async def answer_pieces(run: EditRun | None, edit, model: str):
    """The answer's text in pieces: the fenced edit as it streams, or the fixed reply.

    Every piece of a streamed edit but the last carries model output: what goes before the code
    (a notice, the file name line, the opening fence, code before a named definition) rides with
    the first piece, what comes after it with the closing fence, so a client that counts deltas as
    tokens (a remote backend stopped mid-stream) counts the model's.
    """
    if run is None:
        yield edit.format(model=model)
        return
    head = (f"{run.notice}\n\n" if run.notice else "") + opening(run.edit.block)
    text = ""
    async for piece in run.deltas():
        text += piece
        yield head + piece
        head = ""
    text += run.tail
    yield head + run.tail + closing(text, run.edit.block.fence)
