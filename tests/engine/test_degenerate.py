"""Degenerate output is noticed (engine/decode/degenerate.py), through the engine as well."""

from __future__ import annotations

import asyncio

from engine.decode.degenerate import LOOP_TOKENS, NOVEL_RUN, Watch, stopped_parsing
from engine.model.modelspec import MODELS_DIR
from engine.backends.edit_stream import stream_edit
from engine.decode.session import Document, Engine


def feed(watch: Watch, out: list[int]) -> str | None:
    for i in range(1, len(out) + 1):
        msg = watch.see(out[:i])
        if msg:
            return msg
    return None


def test_a_loop_is_noticed_unless_the_code_repeats_the_same_way():
    assert feed(Watch([1, 2, 3], [7, 8]), [1, 2] + [7, 8] * LOOP_TOKENS) is not None
    ruler = [9] * 40
    assert feed(Watch([1] + ruler, []), [1] + ruler) is None
    assert feed(Watch(list(range(50)), []), list(range(50))) is None


def test_tokens_nobody_predicted_piling_up_are_noticed():
    novel = list(range(1000, 1000 + NOVEL_RUN))
    assert "in a row" in feed(Watch([1, 2], [3]), [1, 2, *novel])
    assert feed(Watch([1, 2], [3]), [1, 2, *novel[:NOVEL_RUN - 2], 3, *novel[:NOVEL_RUN - 2]]) is None


def test_stopped_parsing_only_when_the_input_parsed():
    assert stopped_parsing("def f():\n    return 1", "def f(:\n    return 1")
    assert not stopped_parsing("x = (", "x = (((")
    assert not stopped_parsing("x = 1", "x = 2")


def test_raw_non_ascii_degeneration_ends_with_an_error_not_done():
    """Without the engine's normalisation the bundled model loops on emoji bytes; the watch stops it."""
    text = 'def grüße(name):\n    """Grüß 🎉 名前"""\n    message = "héllo 🎉 " + name\n    return message\n'
    engine = Engine(MODELS_DIR / "tessera-edit-mini", threads=1)

    async def go():
        engine.open("s", Document(text))
        job = engine.make_job("s", "r", "rename variable message to msg", None)
        job.frame = None  # the target as it was sent before engine/decode/reframe.py
        async for ev in stream_edit(engine, job):
            if ev.type == "done":
                return ev

    try:
        done = asyncio.run(go())
    finally:
        engine.close()
    assert done.reason == "error" and done.stats.error.code == "degenerate_output"
    assert done.stats.tokens_out < 200
