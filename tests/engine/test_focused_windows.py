"""Focused windows (engine/decode/windows.py ``focused_plan``): for f-strings and docstrings only the
statements the skill's rule changes go through the model; the drafts written in the source's own
text (engine/skills ``predicted_text``) that the model is shown; the kept prefix; redirects."""

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
    assert plan_of("def f(:\n    x = '%s' % y\n", "fstring") is None


def test_a_statement_longer_than_a_window_falls_back_to_the_plan_by_length():
    code = "def f(a):\n    x = '%s %s %s' % (a, a, a)\n"
    assert focused_plan(code, 0, len(code), "fstring", lambda c: len(c.split()), 2) is None


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
    other = engine.make_job("d", "d2", "remove print statements", None)
    assert skill_prediction(engine.spec, other) is None  # its token-level draft stays
    engine.unregister(other)


def run(engine: Engine, text: str, instruction: str, selection):
    async def go():
        engine.open("w", Document(text))
        job = engine.make_job("w", f"w-{instruction}", instruction, selection)
        return job, [ev async for ev in stream_edit(engine, job)]
    return asyncio.run(go())


def test_remove_prints_is_not_focused_the_model_writes_the_whole_method(engine):
    """Shown a print alone, the bundled model often writes ``return`` in its place: it writes the
    whole function instead (engine/decode/windows.py FOCUSED)."""
    start = METHOD.index("    def render")
    job, events = run(engine, METHOD, "remove print statements", (start, len(METHOD)))
    assert job.windows is None
    done = events[-1]
    assert done.reason == "eos" and "".join(e.text for e in events if e.type == "token") == done.text
    want = ast.parse(METHOD[start:].replace("            print(row)\n", "").replace(
        "                print(\"late\", row)\n", "                pass\n").replace("        print(total)\n", "").strip()
        .replace("\n    ", "\n"))
    assert ast.dump(ast.parse(done.text.strip().replace("\n    ", "\n"))) == ast.dump(want)


@pytest.mark.parametrize("code, summary_line", [
    ("@property\ndef location(self) -> Optional[str]:\n    return self._loc", '    """Return location."""'),
    ("def finalize_options(self):  # noqa: C901 (25)\n    pass", '    """Return finalize options."""'),
    ("def check_macro(self, symbol,\n              headers=None):\n    return 1", '    """Check macro given symbol and headers."""'),
    ("def parse(\n    line: str,\n) -> None:", '    """Parse given line."""'),  # a header alone: the window before a long statement
])
def test_the_docstring_draft_reads_the_parsed_signature_not_its_tokens(code, summary_line):
    from engine.skills.docstring import draft_text, header_last_line

    got = draft_text(code)
    fn = ast.parse(got).body[0]
    end = header_last_line(code, ast.parse(code if not code.endswith(":") else code + "\n    pass").body[0])
    assert got.split("\n")[end] == summary_line
    assert "\n".join(ln for ln in got.split("\n") if ln != summary_line) == code
    assert ast.get_docstring(fn) == summary_line.strip().strip('"')


def test_no_docstring_draft_for_a_function_with_one_or_a_body_on_the_def_line():
    from engine.skills.docstring import draft_text

    assert draft_text('def f():\n    """Has one."""\n    return 1') is None
    assert draft_text("def f(): return 1") is None
    assert draft_text("x = 1") is None


def test_the_rename_draft_spares_keywords_strings_comments_and_other_objects():
    from engine.skills.rename import draft_text

    code = ("def compress(a, out=None):\n"
            "    \"\"\"out: where\"\"\"\n"
            "    return wrap(a, out=out)  # out\n")
    assert draft_text(code, "rename variable out to dest", function=False) == (
        "def compress(a, dest=None):\n"
        "    \"\"\"out: where\"\"\"\n"
        "    return wrap(a, out=dest)  # out\n")
    method = "def go(self, n):\n    return self.go(n - 1) + other.go\n"
    assert draft_text(method, "rename function go to run", function=True) == (
        "def run(self, n):\n    return self.run(n - 1) + other.go\n")
    assert draft_text("def f(é, x):\n    return 'é' + x\n", "rename variable x to z", function=False) == (
        "def f(é, z):\n    return 'é' + z\n")
    assert draft_text("def f(a):\n    return a\n", "rename variable b to c", function=False) is None


def test_add_a_docstring_window_is_the_header_with_its_first_statement_or_the_header_alone():
    code = ("def find(self, dirs,\n"
            "         lib):\n"
            "    # which names to try\n"
            "    names = [lib + '_bcpp', lib, lib + '_d', lib + '_x']\n"
            "    return names\n")
    wide = plan_of(code, "add_docstring")
    assert [(code[a:b], edit) for a, b, edit in wide] == [
        (code[:code.index("    return")], True), (code[code.index("    return"):], False)]
    narrow = focused_plan(code, 0, len(code), "add_docstring", lambda c: len(c.split()), 6)
    assert [(code[a:b], edit) for a, b, edit in narrow] == [
        (code[:code.index("    # which")], True), (code[code.index("    # which"):], False)]


def test_a_field_that_needs_a_backslash_stays_old_formatting_before_python_3_12():
    code = 'msg = "{}:\\n  {}".format(n, "\\n  ".join(lines))\nok = "{}".format(",".join(lines))\n'
    tree = ast.parse(code)
    m = Modernise()
    m.visit(tree)
    assert (m.changed, m.refused) == (1, 1)
    assert rewrite(code) == code.replace('"{}".format(",".join(lines))', "f\"{','.join(lines)}\"")


def test_rename_name_to_new_of_the_function_the_code_defines_renames_its_def_too():
    from engine.skills.rename import draft_text
    from engine.skills.verify import check

    code = "def inflate(fl, n):\n    if n:\n        inflate(fl, n - 1)\n"
    want = "def total(fl, n):\n    if n:\n        total(fl, n - 1)\n"
    assert draft_text(code, "rename inflate to total", function=False) == want
    assert check("rename_variable", "rename inflate to total", code, want) is None
    assert check("rename_variable", "rename inflate to total", code, code.replace("        inflate", "        total"))


def test_the_rename_draft_of_a_header_alone_renames_its_parameter():
    from engine.skills.rename import draft_text

    header = "def merge(seqs, usemask=True,\n          flatten=False):"
    assert draft_text(header, "rename usemask to masked", function=False) == (
        "def merge(seqs, masked=True,\n          flatten=False):")


def test_the_output_keeps_the_sources_tokens_before_the_first_change(engine):
    engine.open("k", Document("def f(a):\n    print('a is %s' % a)\n"))
    job = engine.make_job("k", "k1", "use f-strings", None)
    predicted = skill_prediction(engine.spec, job)
    prompt = job.prompt(engine.spec)
    kept = Drafts(engine.spec, prompt.source_ids, prompt.instruction_ids, predicted).kept
    engine.unregister(job)
    assert kept and predicted[:len(kept)] == prompt.source_ids[:len(kept)] == kept
    assert predicted[len(kept)] != prompt.source_ids[len(kept)]  # up to the first change, not past it
    assert engine.spec.tokenizer.decode(kept).startswith("def f(a):")
    assert Drafts(engine.spec, prompt.source_ids, prompt.instruction_ids, prompt.source_ids).kept == []


def test_a_lone_print_statement_window_is_converted_in_place(engine):
    code = ("def report(err, infile):\n"
            "    try:\n"
            "        load(infile)\n"
            "    except OSError:\n"
            "        print('Skipping counts file %r: %s' % (infile, err), file=sys.stderr)\n")
    job, events = run(engine, code, "convert to f-strings", (0, len(code)))
    assert [w.pass_on for w in job.windows] == [True, False]
    assert events[-1].text == code.replace("'Skipping counts file %r: %s' % (infile, err)",
                                           "f'Skipping counts file {infile!r}: {err}'")


def test_a_redirect_cuts_the_windows_still_to_come_for_the_new_instruction(engine):
    code = ("def total(xs):\n"
            "    acc = 0\n"
            "    for x in xs:\n"
            "        log('x is %s' % x)\n"
            "        acc += x\n"
            "    return acc\n")

    async def go():
        engine.open("rd", Document(code))
        job = engine.make_job("rd", "rd1", "convert to f-strings", None)
        assert [w.pass_on for w in job.windows] == [True, False, True]
        events = []
        async for ev in stream_edit(engine, job):
            events.append(ev)
            if ev.type == "token" and len(events) == 1:  # the first window is passed on: steer now
                assert engine.redirect("rd1", "rename variable acc to running") is None
        return job, events

    job, events = asyncio.run(go())
    done = events[-1]
    assert "redirected" in [e.type for e in events] and done.reason == "eos"
    assert job.planned_for == "rename variable acc to running"
    assert done.text.startswith("def total(xs):\n    acc = 0\n")  # shown before the redirect: kept
    assert "running += x" in done.text and "return running" in done.text  # the rest has the new edit


def test_a_window_that_ends_in_shallower_blocks_gets_the_rules_text_too():
    from engine.skills import fragment_blocks, predicted_text

    window = ("            msg = describe(e)\n"  # deep in a try, then back out to the function's body
              "            print('failed:', msg)\n"
              "            raise Failure(msg) from e\n"
              "\n"
              "        # after it\n"
              "        for flag in flags:\n"
              "            print(flag)\n"
              "    return done\n")
    head = fragment_blocks(window)
    assert head is not None and ast.parse(head + window)
    assert predicted_text("remove_prints", window) == window.replace("            print('failed:', msg)\n", "").replace(
        "            print(flag)\n", "            pass\n")  # the block it empties gets `pass`, not the stand-ins
    assert predicted_text("rename_variable", window, "rename msg to text").count("text") == 3
    assert fragment_blocks("x = 1\n") is None and fragment_blocks("    x = (\n") is None


def test_a_docstring_too_long_for_the_header_and_first_statement_window_takes_the_header_alone(engine):
    name = "validate_https_" + "_".join(f"part{i}_segment" for i in range(14))
    first = ("    if not isinstance(data, (str)):\n        raise SchemaError(\"\" + (name_prefix or \"data\") + "
             "\" must be string\", value=data, name=\"\" + (name_prefix or \"data\") + \"\", rule='type')\n")
    code = (f"def {name}(data, custom_formats={{}}, name_prefix=None):\n" + first
            + "    if isinstance(data, str):\n        check(data)\n    return data\n")
    job, events = run(engine, code, "add a docstring", (0, len(code)))
    done = events[-1]
    assert done.reason == "eos" and done.stats.warning is None
    assert job.windows[0].code == code.split("\n", 1)[0] + "\n"  # the header alone: room for the docstring
    assert done.text.startswith(code.split("\n", 1)[0] + '\n    """') and done.text.endswith(code.split("\n", 1)[1])
