"""``/v1/responses``: the Responses API's objects and event stream, for HTTP and the WebSocket mode.

One turn is :func:`run_turn`: it checks the body, resolves ``previous_response_id`` (the stored
conversation plus its answer, then only the new input), runs the edit and hands each event of the
HTTP event stream (``response.created`` … ``response.completed`` / ``.incomplete`` / ``.failed``)
to ``emit``. HTTP streams them as SSE or returns the final response; the WebSocket mode sends
each as one text frame. ``generate: false`` prepares the turn (the code's prefix is prefilled)
and completes it with no output, so a later turn that continues it starts warm.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .chat import answer_pieces, edit_params
from .edits import Edit, find_edit
from .errors import ApiError, bad, field, text_of
from .run import EditRun, Outcome, edit_document, new_id

if TYPE_CHECKING:
    from .api import OpenAIApi

Emit = Callable[[dict], Awaitable[bool]]  # send one event; False once the client is gone
MAX_STORED = 256  # responses kept for continuation
MAX_STORED_CHARS = 32 * 1024 * 1024  # and at most this many characters of conversation in all


@dataclass
class Stored:
    messages: list[tuple[str, str]]  # the conversation up to and including this response's output
    model: str  # the model that answered


class ResponseStore:
    """Past responses for ``previous_response_id``, oldest dropped first (bounded in count and size)."""

    def __init__(self, limit: int = MAX_STORED, max_chars: int = MAX_STORED_CHARS):
        self.limit = limit
        self.max_chars = max_chars
        self._items: OrderedDict[str, tuple[Stored, int]] = OrderedDict()  # id → (response, its characters)
        self._chars = 0

    def put(self, rid: str, item: Stored) -> None:
        size = sum(len(text) for _, text in item.messages)
        if size > self.max_chars:
            return  # larger than the whole store: not kept (a continuation gets a clear 400)
        self._items[rid] = (item, size)
        self._chars += size
        while len(self._items) > self.limit or self._chars > self.max_chars:
            _, (_, dropped) = self._items.popitem(last=False)
            self._chars -= dropped

    def get(self, rid: str) -> Stored | None:
        entry = self._items.get(rid)
        return entry[0] if entry is not None else None


def input_messages(body: dict) -> list[tuple[str, str]]:
    raw = body.get("input")
    if isinstance(raw, str):
        return [("user", raw)]
    if not isinstance(raw, list):
        raise bad("'input' must be a string or an array of input items", "input", "invalid_type")
    out = []
    for i, item in enumerate(raw):
        is_message = isinstance(item, dict) and item.get("type", "message") == "message"
        if not is_message or not isinstance(item.get("role"), str):
            kind = item.get("type") if isinstance(item, dict) else type(item).__name__
            raise bad(f"'input[{i}]' is a {kind!r} item; this model reads messages only", f"input[{i}]",
                      "unsupported_content")
        out.append((item["role"], text_of(item.get("content"), f"input[{i}].content")))
    return out


def response_object(rid: str, model: str, body: dict, status: str, output: list, usage: dict | None,
                    error: dict | None = None, incomplete: dict | None = None) -> dict:
    return {"id": rid, "object": "response", "created_at": int(time.time()), "status": status, "error": error,
            "incomplete_details": incomplete, "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"), "model": model, "output": output,
            "parallel_tool_calls": False, "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None}, "store": body.get("store", True),
            "temperature": body.get("temperature", 0.0), "text": {"format": {"type": "text"}},
            "tool_choice": "none", "tools": [], "top_p": body.get("top_p", 1.0), "truncation": "disabled",
            "usage": usage, "user": None, "metadata": body.get("metadata") or {}}


def usage_of(out: Outcome) -> dict:
    return {"input_tokens": out.prompt_tokens, "input_tokens_details": {"cached_tokens": out.cached_tokens},
            "output_tokens": out.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0,
                                      "accepted_prediction_tokens": out.accepted_prediction_tokens,
                                      "rejected_prediction_tokens": out.rejected_prediction_tokens},
            "total_tokens": out.prompt_tokens + out.completion_tokens}


async def run_turn(api: OpenAIApi, body: dict, emit: Emit, store: ResponseStore, local: ResponseStore | None = None,
                   on_start: Callable[[EditRun], None] | None = None) -> dict:
    """Run one response; returns the final response object. Bad bodies raise ApiError before any event.

    `local` is a WebSocket connection's own cache: its responses continue even with ``store: false``.
    """
    model = api.model_of(body)
    params = edit_params(body)
    if body.get("background"):
        raise bad("'background' responses are not supported", "background", "unsupported_parameter")
    history: list[tuple[str, str]] = []
    prev = field(body, "previous_response_id", str)
    if prev is not None:
        stored = (local.get(prev) if local is not None else None) or store.get(prev)
        if stored is None:
            raise ApiError(400, f"previous response {prev!r} not found (it expired or was never stored)",
                           code="previous_response_not_found", param="previous_response_id")
        history = list(stored.messages)
    instructions = field(body, "instructions", str)
    messages = history + ([("system", instructions)] if instructions else []) + input_messages(body)
    rid = new_id("resp_")
    seq = 0

    async def send(kind: str, **fields) -> bool:
        nonlocal seq
        seq += 1
        return await emit({"type": kind, "sequence_number": seq - 1, **fields})

    if body.get("generate") is False:  # WebSocket mode: prepare only
        await _prewarm(api, messages)
        final = response_object(rid, model.id, body, "completed", [], usage_of(Outcome()))
        await send("response.created", response={**final, "status": "in_progress", "usage": None})
        await send("response.completed", response=final)
        _keep(body, rid, Stored(messages, model.id), store, local)
        return final

    edit = find_edit(messages)
    run = None
    if isinstance(edit, Edit):
        run = EditRun(api.backend, edit, params, rid)
        await run.start()
        if on_start is not None:
            on_start(run)
    msg_id = new_id("msg_")
    item = {"id": msg_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    await send("response.created", response=response_object(rid, model.id, body, "in_progress", [], None))
    await send("response.in_progress", response=response_object(rid, model.id, body, "in_progress", [], None))
    await send("response.output_item.added", output_index=0, item=item)
    part = {"type": "output_text", "text": "", "annotations": []}
    await send("response.content_part.added", item_id=msg_id, output_index=0, content_index=0, part=part)
    text = ""
    async for piece in answer_pieces(run, edit, model.id):
        text += piece
        await send("response.output_text.delta", item_id=msg_id, output_index=0, content_index=0, delta=piece,
                   logprobs=[])
    out = run.outcome if run else Outcome()
    part = {**part, "text": text}
    await send("response.output_text.done", item_id=msg_id, output_index=0, content_index=0, text=text, logprobs=[])
    await send("response.content_part.done", item_id=msg_id, output_index=0, content_index=0, part=part)
    done_item = {**item, "status": "completed" if out.reason != "length" else "incomplete", "content": [part]}
    await send("response.output_item.done", output_index=0, item=done_item)
    if out.reason == "error":
        err = {"code": "server_error", "message": (out.error or {}).get("message", "the engine failed")}
        final = response_object(rid, model.id, body, "failed", [done_item], usage_of(out), error=err)
        await send("response.failed", response=final)
        return final
    if out.finish_reason == "length":
        final = response_object(rid, model.id, body, "incomplete", [done_item], usage_of(out),
                                incomplete={"reason": "max_output_tokens"})
        await send("response.incomplete", response=final)
    else:
        final = response_object(rid, model.id, body, "completed", [done_item], usage_of(out))
        await send("response.completed", response=final)
    _keep(body, rid, Stored([*messages, ("assistant", text)], model.id), store, local)
    return final


def _keep(body: dict, rid: str, item: Stored, store: ResponseStore, local: ResponseStore | None) -> None:
    if local is not None:
        local.put(rid, item)
    if body.get("store", True) is not False:
        store.put(rid, item)


async def _prewarm(api: OpenAIApi, messages: list[tuple[str, str]]) -> None:
    """Prefill the code a coming turn will edit (the backend's prefix cache), if there is any yet."""
    edit = find_edit(messages + [("user", "(prewarm)")])
    if not isinstance(edit, Edit):
        return
    session = new_id("warm-")
    api.backend.open(session, edit_document(edit.block)[0])  # as the turn will run it
    try:
        await api.backend.prewarm(session)
    finally:
        api.backend.close_session(session)
