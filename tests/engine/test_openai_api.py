"""The OpenAI-compatible API of a real engine process, through the official `openai` client."""

from __future__ import annotations

import asyncio
import http.client
import json
import re

import openai
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

CODE = "def total(xs):\n    s = 0\n    for x in xs:\n        print(x)\n        s += x\n    return s\n"
EDITED = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"
ASK = f"Remove prints\n\n```python\n{CODE}```\n"
MAX_BODY = 256 * 1024  # the engines of tests/engine/conftest.py refuse larger bodies


def fenced(text: str) -> str:
    m = re.search(r"```\w*\n(.*?)```", text, re.S)
    assert m, text
    return m.group(1)


def test_models_lists_the_loaded_model(api):
    models = api.client.models.list().data
    assert [m.id for m in models] == ["tessera-edit-mini"]
    assert api.client.models.retrieve("tessera-edit-mini").id == "tessera-edit-mini"


def test_chat_completion_routes_a_fenced_block_to_the_edit_path(api):
    r = api.client.chat.completions.create(model="tessera-edit-mini", messages=[{"role": "user", "content": ASK}])
    assert fenced(r.choices[0].message.content) == EDITED
    assert r.choices[0].finish_reason == "stop" and r.choices[0].message.role == "assistant"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_streaming_matches_and_reports_usage_last(api):
    whole = api.client.chat.completions.create(model="tessera-edit-mini",
                                               messages=[{"role": "user", "content": ASK}]).choices[0].message.content
    chunks = list(api.client.chat.completions.create(
        model="tessera-edit-mini", messages=[{"role": "user", "content": ASK}], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole
    assert all(c.usage is None for c in chunks[:-1]) and chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens > 0
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    plain = list(api.client.chat.completions.create(
        model="tessera-edit-mini", messages=[{"role": "user", "content": ASK}], stream=True))
    assert all(c.usage is None for c in plain)


def test_anything_but_an_edit_gets_a_clear_answer(api):
    r = api.client.chat.completions.create(model="tessera-edit-mini",
                                           messages=[{"role": "user", "content": "What is the capital of France?"}])
    text = r.choices[0].message.content
    assert "only edits code" in text and "fenced block" in text and r.usage.completion_tokens == 0


def test_a_follow_up_instruction_edits_the_code_of_the_conversation(api):
    first = api.client.chat.completions.create(model="tessera-edit-mini", messages=[{"role": "user", "content": ASK}])
    answer = first.choices[0].message.content
    r = api.client.chat.completions.create(model="tessera-edit-mini", messages=[
        {"role": "user", "content": ASK}, {"role": "assistant", "content": answer},
        {"role": "user", "content": "rename s to acc"}])
    assert fenced(r.choices[0].message.content) == EDITED.replace("s =", "acc =").replace("s +=", "acc +=").replace(
        "return s", "return acc")


def test_completions_streaming_and_not(api):
    r = api.client.completions.create(model="tessera-edit-mini", prompt=ASK)
    assert fenced(r.choices[0].text) == EDITED and r.usage.completion_tokens > 0
    streamed = "".join(c.choices[0].text for c in api.client.completions.create(
        model="tessera-edit-mini", prompt=ASK, stream=True) if c.choices)
    assert streamed == r.choices[0].text


def test_prediction_reports_accepted_and_rejected_tokens(api):
    def ask(prediction: str, stream: bool):
        kw = dict(model="tessera-edit-mini", messages=[{"role": "user", "content": ASK}],
                  prediction={"type": "content", "content": prediction})
        if not stream:
            return api.client.chat.completions.create(**kw).usage
        chunks = list(api.client.chat.completions.create(**kw, stream=True, stream_options={"include_usage": True}))
        return chunks[-1].usage

    for stream in (False, True):
        good = ask(EDITED, stream).completion_tokens_details
        bad = ask("x = 1\n" * 5, stream).completion_tokens_details
        assert good.accepted_prediction_tokens > 10
        assert good.rejected_prediction_tokens < good.accepted_prediction_tokens
        assert bad.accepted_prediction_tokens == 0 and bad.rejected_prediction_tokens > 0
    none = api.client.chat.completions.create(model="tessera-edit-mini", messages=[{"role": "user", "content": ASK}])
    assert none.usage.completion_tokens_details.accepted_prediction_tokens == 0


def test_responses_over_http_continue_with_only_the_new_input(api):
    r = api.client.responses.create(model="tessera-edit-mini", input=ASK)
    assert r.status == "completed" and fenced(r.output_text) == EDITED and r.usage.output_tokens > 0
    again = api.client.responses.create(model="tessera-edit-mini", input="rename s to acc", previous_response_id=r.id)
    assert "acc += x" in fenced(again.output_text) and "print" not in again.output_text
    with api.client.responses.stream(model="tessera-edit-mini", input=ASK) as stream:
        types = [ev.type for ev in stream]
        final = stream.get_final_response()
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert "response.output_text.delta" in types and final.output_text == r.output_text


def test_responses_websocket_mode_runs_turns_on_one_connection(api):
    async def turn(conn, **body):
        await conn.response.create(model="tessera-edit-mini", **body)
        events = []
        async for ev in conn:
            events.append(ev)
            if ev.type in ("response.completed", "response.failed", "response.incomplete", "error"):
                return events

    code = CODE.replace("total", "summed")  # code no earlier test sent: only the warm-up can have cached it

    async def go():
        async with api.async_client().responses.connect() as conn:
            warm = await turn(conn, input=f"```python\n{code}```", generate=False)
            first = await turn(conn, input="Remove prints", previous_response_id=warm[-1].response.id)
            second = await turn(conn, input="rename s to acc", previous_response_id=first[-1].response.id,
                                store=False)
            third = await turn(conn, input="rename acc to total_", previous_response_id=second[-1].response.id)
            return warm, first, second, third

    warm, first, second, third = asyncio.run(go())
    assert [e.type for e in warm] == ["response.created", "response.completed"] and warm[-1].response.output == []
    assert first[-1].type == "response.completed"
    assert fenced(first[-1].response.output_text) == EDITED.replace("total", "summed")
    # The code was prefilled by the generate: false turn.
    assert first[-1].response.usage.input_tokens_details.cached_tokens > 20
    assert "acc += x" in second[-1].response.output_text
    assert third[-1].type == "response.completed"  # store: false responses continue on their connection
    deltas = "".join(e.delta for e in first if e.type == "response.output_text.delta")
    assert deltas == first[-1].response.output_text


def test_websocket_mode_runs_one_turn_at_a_time_and_needs_the_key(api):
    async def go():
        async with api.async_client().responses.connect() as conn:
            await conn.response.create(model="tessera-edit-mini", input=ASK)
            await conn.response.create(model="tessera-edit-mini", input=ASK)
            seen = []
            async for ev in conn:
                seen.append(ev)
                if ev.type == "response.completed":
                    break
        with pytest.raises(InvalidStatus) as refused:
            await connect(api.ws_url + "/v1/responses", additional_headers={"Authorization": "Bearer wrong"})
        return seen, refused.value.response.status_code

    seen, status = asyncio.run(go())
    errors = [e for e in seen if e.type == "error"]
    assert len(errors) == 1 and errors[0].error.code == "response_in_progress"
    assert status == 401


def test_closing_the_http_stream_stops_generation(noisy):
    stream = noisy.client.chat.completions.create(
        model="tiny-random", messages=[{"role": "user", "content": ASK}], stream=True, max_tokens=3900,
        temperature=1.0, seed=1)
    rid = None
    for chunk in stream:
        rid = chunk.id
        if chunk.choices and chunk.choices[0].delta.content and "```" not in chunk.choices[0].delta.content:
            break
    stream.close()
    line = noisy.log_line(rid)
    computed, sent = map(int, re.search(r"stop: (\d+) tokens computed, (\d+) sent before the client closed",
                                        line).groups())
    # The engine stopped well short of the budget: it computed no token after it saw the close.
    assert 0 < computed < 3900 and sent <= computed


def test_closing_the_websocket_stops_the_turn(noisy):
    async def go():
        # The client stops reading, so its close handshake cannot complete: it need not wait long.
        async with noisy.async_client().responses.connect(websocket_connection_options={"close_timeout": 1}) as conn:
            await conn.response.create(model="tiny-random", input=ASK, max_output_tokens=3900)
            async for ev in conn:
                if ev.type == "response.created":
                    rid = ev.response.id
                if ev.type == "response.output_text.delta" and "```" not in ev.delta:
                    return rid
    rid = asyncio.run(go())
    line = noisy.log_line(rid)
    computed = int(re.search(r"stop: (\d+) tokens computed", line).group(1))
    assert 0 < computed < 3900


LONG_STATEMENT = "TABLE = [\n" + "    (print, 'one'),\n" * 400 + "]\n"  # one statement the edit touches: no window holds it


def test_errors_have_openais_shape_and_status(api):
    c = api.client
    msg = [{"role": "user", "content": ASK}]
    with pytest.raises(openai.AuthenticationError) as e401:
        openai.OpenAI(base_url=api.base_url, api_key="wrong", max_retries=0).models.list()
    with pytest.raises(openai.NotFoundError) as e404:
        c.chat.completions.create(model="gpt-4o", messages=msg)
    with pytest.raises(openai.BadRequestError) as e400:
        c.chat.completions.create(model="tessera-edit-mini", messages=msg, temperature=7)
    with pytest.raises(openai.BadRequestError) as overflow:
        # A rename of a name in it: windows cannot pass this statement on untouched.
        c.chat.completions.create(model="tessera-edit-mini", messages=[
            {"role": "user", "content": f"Rename variable TABLE to ROWS\n```python\n{LONG_STATEMENT}```"}])
    with pytest.raises(openai.BadRequestError) as unknown_prev:
        c.responses.create(model="tessera-edit-mini", input="x", previous_response_id="resp_nope")
    assert e401.value.status_code == 401 and e401.value.body["code"] == "invalid_api_key"
    assert e404.value.body["code"] == "model_not_found" and e404.value.body["param"] == "model"
    assert e400.value.body["param"] == "temperature"
    assert overflow.value.body["code"] == "context_length_exceeded"
    assert unknown_prev.value.body["code"] == "previous_response_not_found"
    for err in (e401, e404, e400, overflow):
        assert set(err.value.body) >= {"message", "type", "code"}

    host, port = api.ws_url[len("ws://"):].split(":")

    def raw(method: str, path: str, body: bytes | None = None, **headers) -> tuple[int, dict]:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.request(method, "/v1" + path, body=body, headers={"Authorization": f"Bearer {api.token}",
                                                                    "Content-Type": "application/json", **headers})
            reply = conn.getresponse()
            return reply.status, json.loads(reply.read() or b"{}")
        finally:
            conn.close()

    status, big = raw("POST", "/chat/completions", b"{" + b" " * (MAX_BODY + 10) + b"}")
    assert status == 413 and big["error"]["code"] == "request_too_large"
    status, broken = raw("POST", "/chat/completions", b"{not json")
    assert status == 400 and broken["error"]["type"] == "invalid_request_error"
    status, page = raw("GET", "/models", Origin="https://example.com")
    assert status == 403 and page["error"]["code"] == "origin_not_allowed"
    assert raw("GET", "/nothing")[0] == 404
    # The engine still serves after all of that.
    assert raw("GET", "/models")[1]["data"][0]["id"] == "tessera-edit-mini"


def test_a_method_pasted_from_its_class_keeps_its_indentation(api):
    method = "    " + CODE.replace("\n", "\n    ").rstrip(" ")
    r = api.client.chat.completions.create(model="tessera-edit-mini", messages=[
        {"role": "user", "content": f"remove print statements\n```python\n{method}```"}])
    assert fenced(r.choices[0].message.content) == "    " + EDITED.replace("\n", "\n    ").rstrip(" ")


def test_stop_sequences_and_the_output_budget(api):
    r = api.client.chat.completions.create(model="tessera-edit-mini", messages=[{"role": "user", "content": ASK}],
                                           stop=["s += x"])
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content.endswith("for x in xs:\n        \n```")
    short = api.client.responses.create(model="tessera-edit-mini", input=ASK, max_output_tokens=5)
    assert short.status == "incomplete" and short.incomplete_details.reason == "max_output_tokens"
    assert short.usage.output_tokens == 5
    cut = api.client.chat.completions.create(model="tessera-edit-mini", messages=[{"role": "user", "content": ASK}],
                                             max_tokens=5)
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 5


def test_aiders_whole_file_request_gets_the_whole_file_back_with_the_named_function_edited(api):
    from pathlib import Path

    body = json.loads(Path(__file__).with_name("aider_whole_request.json").read_text(encoding="utf-8"))
    original = body["messages"][-3]["content"].split("quoting.py\n```\n", 1)[1].split("```", 1)[0]
    chunks = api.client.chat.completions.create(model="tessera-edit-mini", messages=body["messages"],
                                                stream=True, temperature=0)
    answer = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    # Aider's *file listing*: the file name line, the opening fence, the entire file, the closing fence.
    assert answer.startswith("quoting.py\n```\n") and answer.endswith("\n```")
    edited = answer[len("quoting.py\n```\n"):-len("```")]
    import ast

    quote = next(n for n in ast.parse(edited).body if isinstance(n, ast.FunctionDef) and n.name == "quote")
    assert ast.get_docstring(quote)
    lines = edited.splitlines(keepends=True)
    docstring = lines[quote.body[0].lineno - 1]
    assert "".join(line for line in lines if line is not docstring) == original  # nothing else changed


def test_offered_tools_are_never_called_and_a_demanded_call_is_refused(api):
    # Agent clients (Continue's `cn`) offer their tools on every request.
    tools = [{"type": "function", "function": {"name": "Read", "description": "Read a file",
                                               "parameters": {"type": "object", "properties": {}}}}]
    r = api.client.chat.completions.create(model="tessera-edit-mini", messages=[{"role": "user", "content": ASK}],
                                           tools=tools)
    assert fenced(r.choices[0].message.content) == EDITED and not r.choices[0].message.tool_calls
    for choice in ("required", {"type": "function", "function": {"name": "Read"}}):
        with pytest.raises(openai.BadRequestError) as err:
            api.client.chat.completions.create(model="tessera-edit-mini", tools=tools, tool_choice=choice,
                                               messages=[{"role": "user", "content": ASK}])
        assert err.value.body["param"] == "tool_choice" and "never call tools" in err.value.body["message"]


def test_each_streamed_piece_but_the_last_carries_model_output(noisy):
    # A client that counts deltas as tokens (a remote backend stopped mid-stream) never counts the
    # framing: the opening fence goes out with the first token's text, not as a delta of its own.
    chunks = list(noisy.client.chat.completions.create(
        model="tiny-random", messages=[{"role": "user", "content": ASK}], stream=True, max_tokens=6,
        temperature=1.0, seed=2, stream_options={"include_usage": True}))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert chunks[-1].usage.completion_tokens == 6 and 2 <= len(pieces) <= 6 + 1
    assert pieces[0].startswith("```python\n") and pieces[0] != "```python\n" and pieces[-1].endswith("```")
    events = list(noisy.client.responses.create(model="tiny-random", input=ASK, max_output_tokens=6, stream=True,
                                                temperature=1.0))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert events[-1].response.usage.output_tokens == 6 and 2 <= len(deltas) <= 6 + 1
    assert deltas[0].startswith("```python\n") and deltas[0] != "```python\n"
