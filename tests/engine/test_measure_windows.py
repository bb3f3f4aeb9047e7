"""`measure` (the app's context meter) agrees with what `generate` does with a long target."""

from __future__ import annotations

import asyncio
import inspect
import shlex

import pytest

from engine.model.modelspec import MODELS_DIR
from engine.decode.session import Document, Engine

SOURCE = inspect.getsource(shlex)  # shlex.read_token: a 145-line method of the standard library
START = SOURCE.index("    def read_token(self):")
END = SOURCE.index("    def sourcehook(")


@pytest.fixture(scope="module")
def engine():
    e = Engine(MODELS_DIR / "tessera-edit-mini", threads=1)
    yield e
    e.close()


def measure(engine: Engine, text: str, start: int, end: int, instruction: str = "add a docstring") -> dict:
    engine.open("m", Document(text=text, language="python"))
    return asyncio.run(engine.measure("m", instruction, (start, end)))


def test_a_method_longer_than_the_context_fits_in_the_windows_generate_will_use(engine):
    measured = measure(engine, SOURCE, START, END)
    assert measured["prompt_tokens"] + measured["source_tokens"] > measured["context_length"]
    job = engine.make_job("m", "r-windows", "add a docstring", (START, END))
    engine.unregister(job)
    assert measured["fits"] is True and measured["windows"] == len(job.windows) > 1


def test_a_statement_too_long_for_any_window_is_refused_with_the_limit_named(engine):
    # One statement the rename must touch, longer than any window (an untouched one is passed on).
    text = "def table(x):\n    return [\n" + "".join(f"        x * {i} + {i % 13},\n" for i in range(2500)) + "    ]\n"
    measured = measure(engine, text, 0, len(text), "rename variable x to y")
    assert measured["fits"] is False and "windows" not in measured
    assert "statement at line" in measured["refusal"] and str(engine.spec.context_length) in measured["refusal"]


def test_a_short_target_is_measured_as_one_prompt(engine):
    text = "def area(r):\n    return 3.14159 * r ** 2\n"
    measured = measure(engine, text, 0, len(text))
    assert measured["fits"] is True and "windows" not in measured and "refusal" not in measured
