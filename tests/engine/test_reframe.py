"""The target as the model sees it and back (engine/decode/reframe.py): round trips, streaming, real edits."""

from __future__ import annotations

import asyncio
import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model.modelspec import MODELS_DIR
from engine.decode.reframe import frame_for
from engine.backends.edit_stream import stream_edit
from engine.decode.session import Document, Engine

GREETER = '''class Greeter:
    """Say hello."""

    def __init__(self, name):
        self.name = name

    def greet(self, times):
        result = []
        for i in range(times):
            result.append("hello " + self.name)
        return result
'''


def restore(frame, output: str, piece: int) -> str:
    r = frame.restorer()
    text = "".join(r.push(output[i:i + piece]) for i in range(0, len(output), piece))
    return text + r.finish(complete=True)


def test_method_is_dedented_for_the_model_and_reindented_after():
    start = GREETER.index("    def greet")
    f = frame_for(GREETER, start, len(GREETER))
    assert f.model_code.startswith("def greet(self, times):\n    result = []")
    assert f.indent == "    " and f.tail == "\n"
    assert restore(f, f.model_code.replace("result", "out"), 3) == GREETER[start:].replace("result", "out")


def test_selection_from_the_keyword_keeps_the_line_start_in_the_document():
    start = GREETER.index("def greet")
    f = frame_for(GREETER, start, len(GREETER))
    assert f.model_code.startswith("def greet(self, times):\n    result")
    assert restore(f, f.model_code, 1) == GREETER[start:]


def test_non_ascii_runs_become_ascii_placeholders_and_come_back_byte_exact():
    text = "def grüße(name):\n    return '🎉 名前 é' + name  # ça\n"
    f = frame_for(text, 0, len(text), "rename name to nom")
    assert f.model_code.isascii()
    assert restore(f, f.model_code, 2).encode() == text.encode()
    # a placeholder written lower-cased (a docstring's words) comes back lower-cased
    assert restore(f, f.model_code.replace("return", f'"""{f.table[0][0].lower()}"""\n    return'), 1).count("grüße") == 1


lines = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["x = 1", "if y:", "# é", "s = '🎉'", "", "return z"])),
                 min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(lines, st.sampled_from(["    ", "\t", "  ", ""]), st.sampled_from(["\n", "\r\n"]),
       st.integers(0, 40), st.integers(0, 40), st.integers(1, 7))
def test_any_selection_round_trips_exactly(body, unit, nl, a, b, piece):
    text = nl.join(unit * depth + code for depth, code in body) + nl
    start, end = sorted((min(a, len(text)), min(b, len(text))))
    if "\r\n" in text and (text[start - 1:start + 1] == "\r\n" or text[end - 1:end + 1] == "\r\n"):
        return  # a selection that splits a CRLF line end is not a line-based target
    f = frame_for(text, start, end)
    if text[start:end].strip():
        assert "\r" not in f.model_code
    assert restore(f, f.model_code, piece) == text[start:end]


@pytest.fixture(scope="module")
def engine():
    e = Engine(MODELS_DIR / "tessera-edit-mini", threads=1)
    yield e
    e.close()


def edit(engine: Engine, text: str, instruction: str, selection=None) -> tuple[str, object]:
    async def go():
        engine.open("t", Document(text))
        job = engine.make_job("t", f"r{id(text)}{instruction}", instruction, selection)
        done = None
        async for ev in stream_edit(engine, job):
            done = ev if ev.type == "done" else done
        return done
    done = asyncio.run(go())
    return done.text, done


@pytest.mark.parametrize("from_keyword", [False, True])
def test_method_rename_through_the_engine(engine, from_keyword):
    start = GREETER.index("def greet" if from_keyword else "    def greet")
    out, done = edit(engine, GREETER, "rename variable result to out", (start, len(GREETER)))
    assert done.reason == "eos"
    assert out == GREETER[start:].replace("result", "out")


def test_method_docstring_keeps_the_body_indented(engine):
    start = GREETER.index("    def greet")
    out, _ = edit(engine, GREETER, "add a docstring", (start, len(GREETER)))
    new = GREETER[:start] + out
    ast.parse(new)
    assert '        """' in out and out.count("\n") == GREETER[start:].count("\n") + 1


def test_non_ascii_code_edits_byte_exact(engine):
    text = 'def grüße(name):\n    """Grüß 🎉 名前"""\n    message = "héllo 🎉 " + name\n    print(message)\n    return message\n'
    out, done = edit(engine, text, "rename variable message to msg")
    assert done.reason == "eos"
    assert out.encode() == text.replace("message", "msg").encode()
    out, _ = edit(engine, text, "remove print statements")
    assert out.encode() == text.replace("    print(message)\n", "").encode()


def test_blank_lines_the_model_adds_at_the_end_are_dropped_and_the_targets_own_come_back():
    text = "class A:\n    def f(self):\n        return 1\n\n\nx = 2\n"
    start, end = text.index("    def f"), text.index("x = 2")
    f = frame_for(text, start, end)
    for piece in (1, 3, 1000):
        assert restore(f, f.model_code + "\n\n    \n", piece) == text[start:end]
        assert restore(f, f.model_code.replace("\n", "\n\n", 1), piece) == (
            text[start:end].replace("\n", "\n\n", 1))  # a blank line inside is the model's edit: kept
