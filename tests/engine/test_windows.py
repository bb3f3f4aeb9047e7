"""Long targets in windows (engine/decode/windows.py): the plan, and whole edits through the engine."""

from __future__ import annotations

import ast
import asyncio
import inspect
import shlex

import pytest

from engine.model.modelspec import MODELS_DIR
from engine.model.prompts import encode
from engine.decode.reframe import frame_for
from engine.backends.edit_stream import stream_edit
from engine.decode.session import Document, Engine
from engine.decode.windows import is_string_statement, plan, source_budget

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
        events = [ev async for ev in stream_edit(engine, job)]
        return job, events
    return asyncio.run(go())


def test_a_long_method_gets_its_docstring_from_the_first_window_only(engine):
    job, events = run(engine, SOURCE, "add a docstring", (START, END))
    done = events[-1]
    assert job.windows and done.reason == "eos" and done.stats.windows == len(job.windows)
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
    assert done.reason == "error" and done.stats.error.code == "context_overflow"
    assert "512" in done.stats.error.message and "line 1" in done.stats.error.message


LONG_DOC = ('def fit(points, weights):\n    """Fit a curve.\n\n' + "    A line of the long docstring about points.\n" * 120
            + '    """\n    total = 0\n    for p in points:\n        total += p * weights\n    return total\n')


def test_out_of_scope_on_a_long_statement_returns_the_code(engine):
    text = "TABLE = [\n" + "    (1, 'one'),\n" * 400 + "]\n"
    job, events = run(engine, text, "add type hints", (0, len(text)))
    assert events[-1].reason == "eos" and events[-1].text == text


def test_plan_passes_a_long_docstring_on_and_cuts_the_header_before_it(engine):
    tok = engine.spec.tokenizer
    count = lambda c: len(encode(tok, c))  # noqa: E731
    budget = source_budget(engine.spec.context_length, 8)
    with pytest.raises(ValueError, match="line 1 alone"):
        plan(LONG_DOC, 0, len(LONG_DOC), count, budget)
    ranges = plan(LONG_DOC, 0, len(LONG_DOC), count, budget, passable=lambda code: False)
    parts = [LONG_DOC[a:b] for a, b in ranges]
    assert parts[0] == "def fit(points, weights):\n"
    assert is_string_statement(parts[1]) and parts[1].startswith('    """Fit a curve.')
    assert "".join(parts) == LONG_DOC


def test_the_parse_check_of_a_windowed_edit_is_the_whole_targets():
    from types import SimpleNamespace

    from engine.decode.windows import whole_stopped_parsing

    method = SOURCE[START:END]
    frame = frame_for(SOURCE, START, END)
    job = lambda out: SimpleNamespace(frame=frame, code=method, output_text=out)  # noqa: E731
    assert not whole_stopped_parsing(job(method.replace("nextchar", "ch")))  # indented, yet whole: parses
    first, rest = method.split("\n", 1)
    assert whole_stopped_parsing(job(first + "\n" + rest.replace("        ", "      ", 1)))  # a dedented body line
    assert whole_stopped_parsing(job(method.replace("return result", "return (result", 1)))  # broken in a later window
    # a selection from the `def` keyword on (its first line is not indented in the output either)
    kw = START + 4
    frame = frame_for(SOURCE, kw, END)
    assert not whole_stopped_parsing(SimpleNamespace(frame=frame, code=SOURCE[kw:END], output_text=SOURCE[kw:END]))


def test_a_windowed_edit_that_no_longer_parses_in_the_file_is_flagged_and_one_that_parses_is_not(engine):
    job, events = run(engine, SOURCE, "rename variable nextchar to ch", (START, END))
    done = events[-1]
    assert job.windows and done.reason == "eos"
    try:
        ast.parse(SOURCE[:START] + done.text + SOURCE[END:])
        whole_parses = True
    except SyntaxError:
        whole_parses = False
    assert done.stats.parses is whole_parses
    notices = [e.code for e in events if e.type == "notice"]
    assert notices.count("unparsable") == (0 if whole_parses else 1)  # one notice, for the whole target
    assert (done.stats.warning is not None and done.stats.warning.code == "unparsable") is (not whole_parses)


def test_a_docstring_longer_than_a_window_passes_through_a_rename(engine):
    job, events = run(engine, LONG_DOC, "rename variable total to acc", (0, len(LONG_DOC)))
    done = events[-1]
    assert done.reason == "eos", done.stats
    assert done.text == LONG_DOC.replace("total", "acc")  # "points" in the docstring stays as written


def test_a_docstring_longer_than_a_window_passes_through_a_parameter_rename(engine):
    job, events = run(engine, LONG_DOC, "rename variable points to rows", (0, len(LONG_DOC)))
    done = events[-1]
    assert done.reason == "eos", done.stats
    head, doc = LONG_DOC.split("\n", 1)
    body = doc.split('    """\n', 2)
    assert done.text.startswith("def fit(rows, weights):\n" + '    """Fit a curve.')
    assert "about points" in done.text and "for p in rows:" in done.text
    assert done.text.endswith(body[-1].replace("points", "rows"))


def test_untouched_long_statement_is_not_refused_and_windows_without_the_name_skip_the_model(engine):
    text = "def table():\n    rows = [\n" + "        (1, 'one'),\n" * 300 + "    ]\n    count = len(rows)\n    return count\n"
    job, events = run(engine, text, "rename variable count to n", (0, len(text)))
    done = events[-1]
    assert done.reason == "eos", done.stats
    assert done.text == text.replace("count", "n")
    assert done.stats.tokens_out < 40  # the 300-line literal went through without the model


def test_a_long_logging_call_and_a_table_naming_print_are_passed_on_not_refused(engine):
    lazy = ("def report(name, n):\n    logger.info(\n        \"%s is installed, %d left\"\n"
            + "        \" and more words about it, %s\"\n" * 60 + "        , name, n)\n    return 'x %s' % name\n")
    _, events = run(engine, lazy, "convert to f-strings", (0, len(lazy)))
    done = events[-1]
    assert done.reason == "eos", done.stats
    assert done.text == lazy.replace("return 'x %s' % name", "return f'x {name}'")
    assert not [e for e in events if e.type == "notice"]  # the whole target's checks found it right
    table = "def names():\n    n = 1\n    print('here')\n    VARS = (\n" + "        ('p', 'print'),\n" * 300 + "    )\n    return VARS\n"
    _, events = run(engine, table, "remove print statements", (0, len(table)))
    done = events[-1]
    assert done.reason == "eos", done.stats
    assert done.text == table.replace("    print('here')\n", "")


COMMENTED = ('class Case:\n'
             '    def test_trace(self):\n'
             + "".join(f"        # why this test exists, reason {i}: the crash happened at the console of debug builds\n"
                       for i in range(8))
             + '        stdout = self.run_code("""\n'
             + "".join(f"            console.push('a{i} = [1, 2, 3]')\n" for i in range(6))
             + '        """)\n'
             '        self.assertIn("unreachable", stdout)\n'
             '        return stdout\n')


def test_a_short_method_with_long_comments_is_cut_inside_not_refused(engine):
    tok = engine.spec.tokenizer
    start = COMMENTED.index("    def")
    count = lambda c: len(encode(tok, c))  # noqa: E731
    budget = source_budget(engine.spec.context_length, 8)
    assert count(COMMENTED[start:]) > budget  # one statement (the def) longer than a window
    ranges = plan(COMMENTED, start, len(COMMENTED), count, budget, passable=lambda code: False)
    parts = [COMMENTED[a:b] for a, b in ranges]
    assert "".join(parts) == COMMENTED[start:] and all(count(frame_for(COMMENTED, a, b).model_code) <= budget
                                                        for a, b in ranges)
    assert any(p.lstrip().startswith("# why") for p in parts)  # the comments begin a window of their own
    job, events = run(engine, COMMENTED, "rename the variable stdout to result", (start, len(COMMENTED)))
    done = events[-1]
    assert done.reason == "eos" and len(job.windows) >= 2
    assert done.text == COMMENTED[start:].replace("stdout", "result")


def test_a_target_that_does_not_dedent_is_cut_only_where_a_logical_line_begins(engine):
    # A docstring on the def line whose text sits at column 0: the dedented frame does not parse.
    text = ("class T:\n    def exceptions(): r'''\n" + "Tests of exceptions, said at column 0.\n" * 150
            + "'''\n    def other(self):\n        return 1\n")
    start, end = text.index("    def exceptions"), text.index("    def other")
    _, events = run(engine, text, "rename the function exceptions to result", (start, end))
    done = events[-1]  # never cut inside the string (the model would rename the word in it): refused
    assert done.reason == "error" and done.stats.error.code == "context_overflow"
