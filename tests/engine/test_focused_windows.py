"""Focused windows (engine/decode/windows.py ``focused_plan``): for "remove prints" and f-strings only
the statements the skill's rule changes go through the model; and the f-string draft written in the
source's own text (engine/skills/fstring_text.py ``rewrite``) that the model is shown."""

from __future__ import annotations

import ast
import asyncio

import pytest

from engine.backends.edit_stream import stream_edit
from engine.decode.drafts import Drafts, skill_prediction
from engine.decode.session import Document, Engine
from engine.decode.windows import focused_plan
from engine.model.align import origin_of
from engine.model.modelspec import MODELS_DIR
from engine.model.prompts import encode
from engine.skills.fstring_text import rewrite
from engine.skills.fstrings import Modernise

METHOD = '''class Report:
    """Totals — per café, with a résumé."""

    def render(self, rows, out):
        # one line per row; "%" and print in comments are not edits
        total = 0
        for row in rows:
            print(row)
            total += row.amount
            if row.late:
                print("late", row)
        out.write("done")
        print(total)
        return total
'''


def plan_of(text: str, skill: str, start: int = 0, end: int | None = None):
    end = len(text) if end is None else end
    return focused_plan(text, start, end, skill, lambda code: len(code.split()), 10_000)


def test_only_the_print_statements_are_edited_and_a_block_of_prints_goes_whole():
    start = METHOD.index("    def render")
    ranges = plan_of(METHOD, "remove_prints", start)
    assert ranges[0][0] == start and ranges[-1][1] == len(METHOD)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    edited = [METHOD[a:b] for a, b, edit in ranges if edit]
    assert edited == ["            print(row)\n",
                      "            if row.late:\n                print(\"late\", row)\n",  # its block would be empty
                      "        print(total)\n"]
    passed = "".join(METHOD[a:b] for a, b, edit in ranges if not edit)
    assert "# one line per row" in passed and "return total" in passed


def test_fstring_windows_are_the_statements_with_old_formatting_and_a_header_takes_its_whole_statement():
    code = ('def f(a, b):\n'
            '    log.info("lazy %s", a)\n'
            '    x = "%s-%s" % (a, b)\n'
            '    if a == "%d" % b:\n'
            '        return 1\n'
            '    elif b == "{}".format(a):\n'
            '        return 2\n'
            '    for i in a:\n'
            '        y = ("one %s "\n'
            '             "two" % i)\n'
            '    return x\n')
    ranges = plan_of(code, "fstring")
    edited = [code[a:b] for a, b, edit in ranges if edit]
    assert edited[0] == '    x = "%s-%s" % (a, b)\n'
    assert edited[1].startswith('    if a == "%d" % b:\n') and edited[1].endswith('        return 2\n')  # elif too
    assert edited[2] == '        y = ("one %s "\n             "two" % i)\n'
    assert len(edited) == 3  # a logging call's lazy %s is no edit


def test_nothing_to_change_passes_the_whole_target_and_broken_code_falls_back():
    code = "def f(a):\n    return a\n"
    assert plan_of(code, "fstring") == [(0, len(code), False)]
    assert plan_of("def f(:\n    print(1)\n", "remove_prints") is None


def test_a_statement_longer_than_a_window_falls_back_to_the_plan_by_length():
    code = "def f(a):\n    print(a, a, a, a, a, a)\n"
    assert focused_plan(code, 0, len(code), "remove_prints", lambda c: len(c.split()), 2) is None


@pytest.mark.parametrize("code, want", [
    ("x = '%s and %r' % (a, b)", "x = f'{a} and {b!r}'"),
    ('x = "{name}: {v:>4}".format(name=n, v=val)', 'x = f"{n}: {val:>4}"'),
    ("x = 'rate %d%%' % r", "x = f'rate {r:d}%'"),
    ("x = 'f(%s) {' % a", "x = f'f({a}) {{'"),
    ("x = ('one %s '\n     'two %s' % (a, b))", "x = (f'one {a} '\n     f'two {b}')"),
    ("café = 'é %s' % a  # 🙂\ny = '%s' % café", "café = f'é {a}'  # 🙂\ny = f'{café}'"),
])
def test_the_draft_is_the_rule_written_in_the_sources_own_text(code, want):
    got = rewrite(code)
    assert got == want
    tree = ast.parse(code)
    Modernise().visit(tree)
    assert ast.dump(ast.parse(got)) == ast.dump(tree)


def test_no_draft_where_nothing_converts_or_the_code_does_not_parse():
    assert rewrite("log.info('%s', a)") is None
    assert rewrite("x = '%s' % (") is None


def test_origin_maps_kept_tokens_to_theirs_and_new_tokens_to_where_the_change_begins():
    assert origin_of([1, 2, 3, 4], [1, 9, 9, 3, 4]) == [0, 1, 1, 2, 3]
    assert origin_of([], [5]) == [0]


@pytest.fixture(scope="module")
def engine():
    e = Engine(MODELS_DIR / "tessera-edit-mini", threads=1)
    yield e
    e.close()


def test_the_model_is_shown_the_rules_fstring_draft(engine):
    engine.open("d", Document("def f(a, b):\n    return ('%s '\n            'and %s' % (a, b))\n"))
    job = engine.make_job("d", "d1", "use f-strings", None)
    predicted = skill_prediction(engine.spec, job)
    assert predicted == encode(engine.spec.tokenizer, rewrite(job.model_code))
    prompt = job.prompt(engine.spec)
    assert Drafts(engine.spec, prompt.source_ids, prompt.instruction_ids, predicted).aligner.predicted == predicted
    engine.unregister(job)
    other = engine.make_job("d", "d2", "add a docstring", None)
    assert skill_prediction(engine.spec, other) is None  # its token-level draft stays
    engine.unregister(other)


def run(engine: Engine, text: str, instruction: str, selection):
    async def go():
        engine.open("w", Document(text))
        job = engine.make_job("w", f"w-{instruction}", instruction, selection)
        return job, [ev async for ev in stream_edit(engine, job)]
    return asyncio.run(go())


def test_remove_prints_in_a_method_edits_only_its_prints_through_the_engine(engine):
    start = METHOD.index("    def render")
    job, events = run(engine, METHOD, "remove print statements", (start, len(METHOD)))
    assert [w.pass_on for w in job.windows] == [True, False, True, False, True, False, True]
    done = events[-1]
    assert done.reason == "eos" and done.stats.windows == len(job.windows)
    assert "".join(e.text for e in events if e.type == "token") == done.text
    assert done.text == METHOD[start:].replace("            print(row)\n", "").replace(
        "                print(\"late\", row)\n", "                pass\n").replace("        print(total)\n", "")
