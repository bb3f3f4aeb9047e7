"""A skill that finds nothing to change in the target (engine/skills ``nothing_to_change``): the engine
says why and answers with the code unchanged, without the model, and it is not out of scope."""

from __future__ import annotations

import asyncio

import pytest

from engine.backends.edit_stream import stream_edit
from engine.decode.session import Document, Engine
from engine.model.modelspec import MODELS_DIR


@pytest.fixture(scope="module")
def engine():
    e = Engine(MODELS_DIR / "tessera-edit-mini", threads=1)
    yield e
    e.close()


def edit(engine, code, instruction, selection=None):
    async def go():
        engine.open("n", Document(code))
        job = engine.make_job("n", f"n-{hash((code, instruction))}", instruction, selection)
        return [ev async for ev in stream_edit(engine, job)]
    return asyncio.run(go())


@pytest.mark.parametrize("code, instruction, why", [
    ("def f(x):\n    return f'{x}'\n", "convert to f-strings", "no `%` or `.format()` string formatting"),
    ("def f(x):\n    log('%s', x)\n    return x\n", "use f-strings", "no `%` or `.format()`"),  # lazy logging
    ("def f(x):\n    # print(x)\n    return 'print'\n", "remove prints", "no print statement"),
    ("def f(x):\n    '''Do f.'''\n    return x\n", "add a docstring", "`f` has a docstring already"),
    ("def f(café):\n    return café\n", "rename y to z", "`y` does not occur in the code"),
])
def test_nothing_to_change_is_said_and_the_code_comes_back_without_the_model(engine, code, instruction, why):
    events = edit(engine, code, instruction)
    notices = [ev for ev in events if ev.type == "notice"]
    assert [n.code for n in notices] == ["nothing_to_change"] and why in notices[0].message
    done = events[-1]
    assert done.reason == "eos" and done.text == code
    assert not done.stats.out_of_scope and done.stats.prompt_tokens == 0  # the model never ran


def test_a_skill_with_something_to_change_runs_the_model(engine):
    code = "def f(x):\n    print(x)\n    return x\n"
    events = edit(engine, code, "remove prints")
    assert not [ev for ev in events if ev.type == "notice"]
    assert events[-1].text == "def f(x):\n    return x\n" and events[-1].stats.prompt_tokens > 0


def test_a_method_with_a_docstring_already_is_recognised_at_its_indentation(engine):
    code = "class A:\n    def f(self):\n        \"\"\"Do f.\"\"\"\n        return 1\n"
    start = code.index("    def")
    events = edit(engine, code, "add a docstring", (start, len(code)))
    assert [ev.code for ev in events if ev.type == "notice"] == ["nothing_to_change"]
    assert events[-1].text == code[start:]
