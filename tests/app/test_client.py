"""The engine client against a real engine process over a real WebSocket."""

import asyncio
import os
from pathlib import Path

import pytest

from app.core.link.client import ENGINE_LOST, EngineClient, EngineError, EngineProcess, EngineStartError, read_token

from engine.model.modelspec import MODELS_DIR
from tests.sends import record_sends

SOURCE = "def area(w, h):\n    return w * h\n"
TEST_MODEL = MODELS_DIR / "tiny-random"  # random weights: long streams to stop and redirect


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def started() -> tuple[EngineProcess, EngineClient]:
    proc = EngineProcess(TEST_MODEL)
    url = await proc.start()
    client = EngineClient()
    await client.connect(url, proc.token)
    await client.open_document("s", SOURCE, "python")
    return proc, client


async def shut(proc: EngineProcess, client: EngineClient) -> int | None:
    await client.close()
    return await proc.stop()


def test_token_travels_in_the_environment_never_argv():
    async def main():
        proc = EngineProcess(TEST_MODEL)
        await proc.start()
        try:
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
            environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
            assert proc.token.encode() not in cmdline
            assert f"TESSERA_TOKEN={proc.token}".encode() in environ
            assert proc.url.startswith("ws://127.0.0.1:")
        finally:
            assert await proc.stop() == 0  # closing stdin is a clean exit, no signal needed
    run(main())


def test_each_engine_gets_a_fresh_token():
    assert EngineProcess().token != EngineProcess().token


def test_welcome_ready_and_a_streamed_edit():
    async def main():
        proc, client = await started()
        try:
            assert client.info.context_length > 0 and client.info.profiles
            ready = await client.update_document("s", SOURCE + "\n")
            assert ready["prompt_tokens"] > 0
            stream = await client.generate("s", "add a docstring", (0, len(SOURCE)), max_tokens=40, seed=1)
            events = [msg async for msg in stream]
            tokens = [m for m in events if m["type"] == "token"]
            assert tokens and events[-1]["type"] == "done"
            assert sum(m["count"] for m in tokens) == events[-1]["stats"]["tokens_out"]
            assert "".join(m["text"] for m in tokens) == events[-1]["text"]
            assert await client.ping() >= 0
        finally:
            await shut(proc, client)
    run(main())


def test_an_update_since_the_held_text_sends_only_the_change_and_the_engine_holds_the_new_text():
    async def main():
        proc, client = await started()
        sent = record_sends(client)
        try:
            new = SOURCE + "\n\ndef volume(w, h, d):\n    return area(w, h) * d\n"
            by_edit = await client.update_document("s", new, since=SOURCE)
            assert sent[-1]["edits"] == [{"start": len(SOURCE), "end": len(SOURCE), "text": new[len(SOURCE):]}]
            assert "text" not in sent[-1]
            # The engine holds the new text: a selection past the old end is measured, not refused.
            measured = await client.measure("s", "add a docstring", (len(SOURCE), len(new)))
            assert measured["prompt_tokens"] > 0
            whole = await client.update_document("s", new)  # the same text, sent whole
            assert sent[-1]["text"] == new and by_edit["prompt_tokens"] == whole["prompt_tokens"]
        finally:
            await shut(proc, client)
    run(main())


def test_wrong_token_is_refused_clearly():
    async def main():
        proc = EngineProcess(TEST_MODEL)
        url = await proc.start()
        try:
            with pytest.raises(EngineError) as refused:
                await EngineClient().connect(url, "not-the-token")
            assert refused.value.code == "unauthorized"
            # the engine keeps serving the right client
            client = EngineClient()
            await client.connect(url, proc.token)
            await client.close()
        finally:
            await proc.stop()
    run(main())


def test_bad_request_is_an_error_event_not_a_hang():
    async def main():
        proc, client = await started()
        try:
            stream = await client.generate("s", "rename", (0, len(SOURCE) + 50))
            events = [msg async for msg in stream]
            assert [m["type"] for m in events] == ["error"]
            assert events[0]["code"] == "bad_selection"
            with pytest.raises(EngineError) as refused:
                await client.update_document("no-such-session", "x")
            assert refused.value.code and refused.value.message
            assert (await client.update_document("s", SOURCE))["prompt_tokens"] > 0
        finally:
            await shut(proc, client)
    run(main())


def test_stop_ends_the_stream_early():
    async def main():
        proc, client = await started()
        try:
            stream = await client.generate("s", "add types", (0, len(SOURCE)), max_tokens=4000,
                                           temperature=1.0, seed=5)
            events = []
            async for msg in stream:
                events.append(msg)
                if len(events) == 1:
                    await client.stop(stream.request_id)
            done = events[-1]
            assert done["type"] == "done" and done["reason"] == "stop"
            assert done["stats"]["tokens_out"] < 4000
        finally:
            await shut(proc, client)
    run(main())


def test_redirect_continues_the_same_request():
    async def main():
        proc, client = await started()
        try:
            stream = await client.generate("s", "add types", (0, len(SOURCE)), max_tokens=600,
                                           temperature=1.0, seed=5)
            kinds = []
            async for msg in stream:
                kinds.append(msg["type"])
                if kinds.count("token") == 2 and "redirected" not in kinds:
                    await client.redirect(stream.request_id, "rename w to width")
            assert "redirected" in kinds
            after = kinds[kinds.index("redirected"):]
            assert "token" in after and kinds[-1] == "done"
        finally:
            await shut(proc, client)
    run(main())


def test_redirect_after_stop_reopens_the_stream():
    async def main():
        proc, client = await started()
        try:
            stream = await client.generate("s", "add types", (0, len(SOURCE)), max_tokens=4000,
                                           temperature=1.0, seed=5)
            async for msg in stream:
                if msg["type"] == "token":
                    await client.stop(stream.request_id)
            again = await client.redirect(stream.request_id, "now add a docstring")
            stream_kinds = []
            async for msg in again:
                stream_kinds.append(msg["type"])
                if stream_kinds.count("token") == 3:
                    await client.stop(stream.request_id)
            assert "token" in stream_kinds and stream_kinds[-1] == "done"
        finally:
            await shut(proc, client)
    run(main())


def test_engine_killed_mid_stream_surfaces_as_error_after_what_arrived():
    async def main():
        exits = []
        proc = EngineProcess(TEST_MODEL, on_exit=exits.append)
        url = await proc.start()
        closed = []
        client = EngineClient(on_closed=closed.append)
        await client.connect(url, proc.token)
        await client.open_document("s", SOURCE, "python")
        stream = await client.generate("s", "add types", (0, len(SOURCE)), max_tokens=100_000,
                                       temperature=1.0, seed=5)
        events = []
        async for msg in stream:
            events.append(msg)
            if len(events) == 3:
                os.kill(proc.pid, 9)
        assert [m["type"] for m in events[:3]] == ["token"] * 3
        assert events[-1]["type"] == "error" and events[-1]["code"] == ENGINE_LOST
        assert closed and not client.connected
        with pytest.raises(EngineError):
            await client.ping()
        await proc.stop()
        for _ in range(100):
            if exits:
                break
            await asyncio.sleep(0.01)
        assert exits == [-9]
    run(main())


def test_a_bad_model_folder_fails_to_start_with_the_engine_s_reason(tmp_path):
    async def main():
        with pytest.raises(EngineStartError) as failed:
            await EngineProcess(model_dir=tmp_path / "nope").start()
        assert "nope" in failed.value.message
    run(main())


def test_unreachable_engine_is_a_clear_error():
    with pytest.raises(EngineError) as failed:
        run(EngineClient().connect("ws://127.0.0.1:9", "t", timeout_s=2))
    assert failed.value.code == "connect_failed"


def test_token_for_an_existing_engine(tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    assert read_token(token_file) == "s3cret"
    monkeypatch.setenv("TESSERA_TOKEN", "from-env")
    assert read_token() == "from-env"
    token_file.write_text("")
    with pytest.raises(EngineError):
        read_token(token_file)
