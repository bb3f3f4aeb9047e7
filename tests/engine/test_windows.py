"""Long targets in windows (engine/windows.py): the plan, and whole edits through the engine."""

from __future__ import annotations

import ast
import asyncio
import inspect
import shlex

import pytest

from engine.modelspec import MODELS_DIR
from engine.prompts import encode
from engine.reframe import frame_for
from engine.session import Document, Engine
from engine.windows import plan, source_budget

SOURCE = inspect.getsource(shlex)  # shlex.read_token: a 145-line method of the standard library
START = SOURCE.index("    def read_token(self):")
END = SOURCE.index("    def sourcehook(")


@pytest.fixture(scope="module")
def engine():
    e = Engine(MODELS_DIR / "tessera-edit-mini", threads=1)
    yield e
    e.close()


def test_windows_cover_the_selection_fit_and_never_end_on_a_block_header(engine):
    tok = engine.spec.tokenizer
    budget = source_budget(engine.spec.context_length, 8)
    ranges = plan(SOURCE, START, END, lambda c: len(encode(tok, c)), budget)
    assert len(ranges) > 2 and ranges[0][0] == START and ranges[-1][1] == END
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    for a, b in ranges:
        assert len(encode(tok, frame_for(SOURCE, a, b).model_code)) <= budget
        assert not SOURCE[a:b].rstrip().endswith(":"), SOURCE[a:b][-80:]


def run(engine: Engine, text: str, instruction: str, selection):
    async def go():
        engine.open("w", Document(text))
        job = engine.make_job("w", f"w-{instruction}-{selection}", instruction, selection)
        events = [ev async for ev in engine.stream(job)]
        return job, events
    return asyncio.run(go())


def test_a_long_method_gets_its_docstring_from_the_first_window_only(engine):
    job, events = run(engine, SOURCE, "add a docstring", (START, END))
    done = events[-1]
    assert job.windows and done.reason == "eos" and done.stats["windows"] == len(job.windows)
    out = done.text
    assert "".join(e.text for e in events if e.type == "token") == out
    assert out.startswith("    def read_token(self):\n        \"\"\"")
    rest = SOURCE[START:END].split("\n", 1)[1]
    assert out.endswith(rest[len(rest) - len(SOURCE[START:END]) + len(job.windows[0].code):])
    ast.parse(SOURCE[:START] + out + SOURCE[END:])
    indices = [e.index for e in events if e.type == "token"]
    assert indices == sorted(indices)


def test_one_statement_longer_than_a_window_is_refused_naming_the_limit(engine):
    text = "TABLE = [\n" + "    (1, 'one'),\n" * 400 + "]\n"
    _, events = run(engine, text, "rename variable TABLE to ROWS", (0, len(text)))
    done = events[-1]
    assert done.reason == "error" and done.stats["error"]["code"] == "context_overflow"
    assert "512" in done.stats["error"]["message"] and "line 1" in done.stats["error"]["message"]
