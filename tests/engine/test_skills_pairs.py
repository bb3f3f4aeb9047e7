"""The skills' edit-pair builders (the bundled model's training data, no torch needed), their
phrasings and routing."""

from __future__ import annotations

import ast
import random
import re

import pytest

from engine.skills import BY_NAME, SKILLS, skill_of, touches
from engine.skills.docstring import build_add_docstring, docstring_summary
from engine.skills.fstrings import build_fstring, build_fstring_forward
from engine.skills.out_of_scope import build_out_of_scope
from engine.skills.prints import build_remove_prints, is_print_statement
from engine.skills.rename import build_rename_function, build_rename_variable

OUT_OF_SCOPE = BY_NAME["out_of_scope"].phrasings

POOL = ["total", "rows", "result", "buffer", "line_count", "entries"]

FUNC = '''
def collect(self, items, limit=10):
    out = []
    for item in items:
        if len(out) >= limit:
            break
        out.append(item.items)
    self.items = items
    return report(items=out, count=len(items))
'''.strip()


def names_of(code: str) -> list[str]:
    return [n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)]


def test_rename_variable_renames_every_use_and_nothing_else():
    rng = random.Random(3)
    for _ in range(20):
        pair = build_rename_variable(FUNC, rng, POOL)
        old, new = re.fullmatch(r"(?i).*?(\w+) to (\w+)", pair.instruction).groups()
        assert old in names_of(FUNC) or old in {"items", "limit"}
        src_tree, tgt_tree = ast.parse(pair.source), ast.parse(pair.target)
        assert old not in names_of(pair.target)
        assert names_of(pair.target).count(new) == names_of(pair.source).count(old)
        # attributes and keyword arguments keep their spelling
        attrs = lambda t: sorted(n.attr for n in ast.walk(t) if isinstance(n, ast.Attribute))  # noqa: E731
        kws = lambda t: sorted(k.arg for k in ast.walk(t) if isinstance(k, ast.keyword))  # noqa: E731
        assert attrs(src_tree) == attrs(tgt_tree) and kws(src_tree) == kws(tgt_tree)
        # renaming back gives the source again
        assert pair.source == pair.target.replace(new, old) or re.sub(rf"\b{new}\b", old, pair.target) == pair.source


def test_rename_function_renames_definition_and_recursive_calls():
    code = "def walk(node, depth=0):\n    for child in node.children:\n        walk(child, depth + 1)\n    return depth"
    pair = build_rename_function(code, random.Random(0), POOL)
    new = pair.instruction.split()[-1]
    assert pair.target.startswith(f"def {new}(node, depth=0):")
    assert f"        {new}(child, depth + 1)" in pair.target
    assert "walk" not in pair.target


def test_rename_function_follows_self_calls_in_methods():
    code = "def visit(self, node):\n    for c in node:\n        self.visit(c)"
    pair = build_rename_function(code, random.Random(1), POOL)
    new = pair.instruction.split()[-1]
    assert f"self.{new}(c)" in pair.target


def test_docstring_is_a_one_line_summary_of_name_and_parameters():
    code = "def parse_header(self, line, strict=False):\n    return line.split(':', 1)"
    pair = build_add_docstring(code, random.Random(0), POOL)
    fn = ast.parse(pair.target).body[0]
    assert ast.get_docstring(fn) == "Parse header given line and strict."
    fn.body = fn.body[1:]
    assert ast.unparse(fn) == pair.source == code


def test_docstring_replaces_the_stdlib_docstring():
    code = 'def size(self):\n    """Old words."""\n    return self._n'
    pair = build_add_docstring(code, random.Random(0), POOL)
    assert "Old words" not in pair.source and "Old words" not in pair.target
    assert ast.get_docstring(ast.parse(pair.target).body[0]) == "Return size."


@pytest.mark.parametrize("name, summary", [("__init__", "Initialize given a."), ("getValue", "Get value given a."),
                                           ("is_ready", "Tell whether ready given a.")])
def test_docstring_summary_wording(name, summary):
    fn = ast.parse(f"def {name}(self, a):\n    pass").body[0]
    assert docstring_summary(fn) == summary


def test_remove_prints_target_has_no_print_and_keeps_everything_else():
    rng = random.Random(5)
    for _ in range(20):
        pair = build_remove_prints(FUNC, rng, POOL)
        src_stmts = [s for s in ast.walk(ast.parse(pair.source)) if isinstance(s, ast.stmt)]
        tgt_stmts = [s for s in ast.walk(ast.parse(pair.target)) if isinstance(s, ast.stmt)]
        assert any(is_print_statement(s) for s in src_stmts)
        assert not any(is_print_statement(s) for s in tgt_stmts)
        assert ast.unparse(ast.parse(pair.target)) == FUNC


def test_remove_prints_keeps_a_block_valid():
    code = "def f(x):\n    if x:\n        print(x)\n    return x"
    pair = build_remove_prints(code, random.Random(0), POOL)
    assert "    if x:\n        pass" in pair.target
    ast.parse(pair.target)


def test_fstring_reverse_builder_yields_code_that_parses_and_round_trips():
    code = ("def describe(self, name, size):\n    msg = f'{name!r} has {size:.2f} MB ({self.count} files)'\n"
            "    return f'<{msg}>' + f'{{literal}}'")
    rng = random.Random(0)
    styles = set()
    for _ in range(12):
        pair = build_fstring(code, rng, POOL)
        tree = ast.parse(pair.source)
        assert not any(isinstance(n, ast.FormattedValue) for n in ast.walk(tree))
        assert pair.target == code
        styles.add("%" in pair.source)
        # both sides compute the same strings
        env = {"self": type("S", (), {"count": 3})()}
        ns_src, ns_tgt = {}, {}
        exec(pair.source, ns_src)
        exec(pair.target, ns_tgt)
        assert ns_src["describe"](env["self"], "x", 1.5) == ns_tgt["describe"](env["self"], "x", 1.5)
    assert styles == {True, False}  # both str.format and % appear


def test_fstring_forward_builder_converts_format_and_percent():
    code = "def f(a, b):\n    x = '{} and {!r}'.format(a, b)\n    return '%s: %d%%' % (x, b)"
    pair = build_fstring_forward(code, random.Random(0), POOL)
    assert pair.target == "def f(a, b):\n    x = f'{a} and {b!r}'\n    return f'{x}: {b:d}%'"
    ns_src, ns_tgt = {}, {}
    exec(pair.source, ns_src)
    exec(pair.target, ns_tgt)
    assert ns_src["f"]("p", 7) == ns_tgt["f"]("p", 7)


def test_fstring_forward_refuses_what_it_cannot_convert_exactly():
    code = "def f(d):\n    return '%(name)s' % d"
    assert build_fstring_forward(code, random.Random(0), POOL) is None


def test_out_of_scope_pairs_are_unchanged_and_route_to_no_skill():
    rng = random.Random(0)
    for _ in range(30):
        pair = build_out_of_scope(FUNC, rng, POOL)
        assert pair.target == pair.source == FUNC
        assert skill_of(pair.instruction) is None
    assert all(skill_of(text) is None for text in OUT_OF_SCOPE)


def test_every_skill_example_routes_to_its_skill():
    for s in SKILLS:
        assert skill_of(s["example"]) == s["name"]
    assert skill_of("rename total to count") == "rename_variable"
    assert skill_of("Remove debug prints") == "remove_prints"


def test_touches_is_conservative():
    assert touches("rename_variable", "rename variable total to acc", "x = total + 1")
    assert touches("rename_variable", "rename `total` to acc", "s = 'total'")  # a mention counts
    assert not touches("rename_variable", "rename variable total to acc", "subtotal = 1")
    assert not touches("remove_prints", "remove print statements", "x = 1")
    assert not touches("fstring", "convert to f-strings", "x = 'a'")
    assert touches("fstring", "convert to f-strings", "x = 'a %s' % y")
    assert touches("add_docstring", "add a docstring", "    def f(x):\n        return x")
    assert not touches("add_docstring", "add a docstring", "x = [1,\n     2]") and touches(None, "anything", "")
    assert not touches("out_of_scope", "add type hints", "x = 1")


def test_prints_and_old_formatting_count_as_code_not_as_words():
    lazy = '        logger.info(\n            "%s is already installed, %d left",\n            name, n,\n        )\n'
    assert not touches("fstring", "convert to f-strings", lazy)  # a logging call formats lazily
    assert not touches("fstring", "convert to f-strings", "    x = 'use the format'  # 100% sure\n")
    assert touches("fstring", "convert to f-strings", "        msg = ('a {} '\n               'b'.format(x))\n")
    assert touches("fstring", "convert to f-strings", "    else:\n        x = '%s' % y\n")  # not Python alone: counts
    mapping = "    wordsep = re.compile(r\'\'\'\n      %(ws)s+\n    \'\'\' % {'ws': whitespace})\n"
    assert not touches("fstring", "convert to f-strings", mapping)  # no f-string spells a %(name)s mapping
    table = "    VARS = (\n" + "        ('p', 'print'),\n" * 3 + "    )\n"
    assert not touches("remove_prints", "remove print statements", table)
    assert not touches("remove_prints", "remove print statements", "    # print(x) when debugging\n    y = 1\n")
    assert touches("remove_prints", "remove print statements", "    if x:\n        print(x)\n")
