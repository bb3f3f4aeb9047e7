import asyncio

import pytest

from engine.backends.edit_stream import stream_edit
from engine.decode.session import Document, Engine, RequestError

CODE = "import os\n\n\ndef total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n" * 20



def generate(engine, rid, selection, instruction="rename s to acc", max_tokens=5):
    async def go():
        job = engine.make_job("doc", rid, instruction, selection, max_tokens)
        return [ev async for ev in stream_edit(engine, job)][-1]
    return asyncio.run(go())


def test_prewarmed_prefix_is_reused_by_generate(engine):
    engine.open("doc", Document(CODE))
    engine.session("doc").document.selection = (10, 200)
    ready = asyncio.run(engine.prewarm("doc"))
    assert ready.prompt_tokens > 100 and ready.prewarm_ms > 0
    done = generate(engine, "warm", (10, 200))
    assert done.stats.cached_tokens >= ready.prompt_tokens
    # A new instruction on the same selection re-uses the prefix too.
    again = generate(engine, "warm2", (10, 200), instruction="add a docstring")
    assert again.stats.cached_tokens >= ready.prompt_tokens


def test_cache_follows_an_edit_at_the_end_of_the_file(engine):
    engine.open("doc", Document(CODE))
    asyncio.run(engine.prewarm("doc"))
    engine.session("doc").document.text = CODE + "# one more line\n"
    ready = asyncio.run(engine.prewarm("doc"))
    # tiny-random takes file context: everything before the edit stays cached (one token per byte).
    assert ready.reused_tokens >= len(CODE)
    assert ready.prompt_tokens == ready.reused_tokens + len("# one more line\n") + 1


def test_bad_requests_raise_clear_errors(engine):
    engine.open("doc", Document("x = 1\n"))
    with pytest.raises(RequestError, match="outside the document"):
        engine.make_job("doc", "bad", "x", (0, 99))
    with pytest.raises(RequestError, match="empty"):
        engine.make_job("doc", "bad2", "   ", None)
    with pytest.raises(RequestError, match="no open session"):
        engine.make_job("nope", "bad3", "x", None)


def test_code_containing_marker_text_cannot_inject_special_tokens(tiny_model_dir):
    from engine.model.modelspec import load_spec
    from engine.model.prompts import build_edit_prompt

    spec = load_spec(tiny_model_dir)
    prompt = build_edit_prompt(spec.tokenizer, spec.special, "x", 'END = "<end>"  # <edit> <code>\n')
    markers = set(spec.special_ids.values())
    assert not markers & set(prompt.source_ids)
    assert [t for t in prompt.ids if t in markers] == [spec.special_ids["code"], spec.special_ids["instr"],
                                                       spec.special_ids["edit"]]


def test_a_worker_that_crashes_ends_the_stream_with_an_error(engine, monkeypatch):
    import engine.decode.session as session_module

    def crash(*args, **kwargs):
        raise MemoryError("out of memory in the decode loop")

    monkeypatch.setattr(session_module, "run_edit_job", crash)
    engine.open("doc", Document(CODE))

    async def go():
        job = engine.make_job("doc", "crash", "rename s to acc", (10, 200), 5)
        return [ev async for ev in stream_edit(engine, job)]

    events = asyncio.run(asyncio.wait_for(go(), 10))
    assert events[-1].type == "done" and events[-1].reason == "error"
    assert "MemoryError" in events[-1].stats.error.message
    monkeypatch.undo()
    assert generate(engine, "after", (10, 200)).reason in ("eos", "length")  # the engine still serves
