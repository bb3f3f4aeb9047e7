"""Training pairs on functions as written (engine/training/written.py; no torch needed)."""

from __future__ import annotations

import ast
import random
import re

import pytest

from engine.training import windowed, written
from engine.training.corpus import written_in

POOL = ["total", "rows", "result", "buffer", "line_count", "entries"]

CLASS = '''
class Greeter:
    """Say hello."""

    @property
    def greet(self, times,
              name="x"):  # say hi
        """Old doc."""
        result = []
        for i in range(times):
            # one per time
            result.append("hello " + self.name + f"{i!r} and {name:>4}")

        return result
'''.lstrip()


def framed_method() -> str:
    [code] = written_in(CLASS)
    return code


def build(kind: str, code: str, seed: int = 0):
    rng = random.Random(seed)
    for _ in range(20):
        made = written.build(kind, code, rng, POOL)
        if made:
            return made[0]
    raise AssertionError(f"no {kind} pair")


def test_methods_are_framed_as_the_engine_frames_them():
    code = framed_method()
    assert code.startswith("@property\ndef greet(self, times,\n          name=\"x\"):  # say hi\n")
    assert "\n\n    return result" in code  # blank lines and comments as written
    assert "    # one per time\n" in code


def test_non_ascii_text_reaches_the_pairs_as_placeholders():
    [code] = written_in('def größe(wert):\n    return wert + "é"\n')
    assert code.isascii() and "def gr" in code


@pytest.mark.parametrize("kind", ["rename_variable", "rename_function", "add_docstring", "fstring",
                                  "remove_prints", "out_of_scope"])
def test_pairs_keep_the_formatting_and_change_only_the_edit(kind):
    code = framed_method()
    instruction, source, target, _ = build(kind, code)
    for kept in ("# say hi", "# one per time", "@property", '"hello "', "\n\n    return"):
        assert kept in target
    if kind == "out_of_scope":
        assert target == source
    else:
        assert target != source
    ast.parse(source)
    ast.parse(target)


def test_rename_touches_code_not_comments_or_strings():
    code = 'def f(name):\n    # name is kept here\n    return "name: " + name  # name\n'
    rng = random.Random(0)
    pairs = []
    while not pairs:
        pairs = [p for p in written.build("rename_variable", code.rstrip(), rng, POOL)]
    instruction, source, target, _ = pairs[0]
    new = instruction.split()[-1]
    assert target == f'def f({new}):\n    # name is kept here\n    return "name: " + {new}  # name'


def test_remove_prints_removes_whole_lines_and_keeps_pass_in_an_emptied_block():
    code = 'def f(a):\n    if a:\n        print("a",\n              a)\n    return a'
    rng = random.Random(0)
    made = None
    while made is None:
        got = written.remove_prints_pair(code, rng, POOL)
        if got is not None and got[1].count("print(") == 1:
            made = got
    instruction, source, edits, _ = made
    assert written.apply(source, edits) == 'def f(a):\n    if a:\n        pass\n    return a'


def test_docstring_follows_a_header_over_several_lines():
    code = 'def f(a,\n      b):\n    # sum\n    return a + b'
    instruction, source, target, _ = build("add_docstring", code)
    assert target == 'def f(a,\n      b):\n    """Return f given a and b."""\n    # sum\n    return a + b'


def test_long_targets_become_the_engines_windows_each_with_its_edits():
    body = "\n".join(f"    value_{i} = count + {i}  # step {i}" for i in range(120))
    code = f"def long_one(count):\n{body}\n    return count"
    count = lambda text: len(text) // 3  # noqa: E731
    instruction, source, target, edits = build("rename_variable", code)
    old, new = instruction.split()[-3], instruction.split()[-1]
    wins = windowed.windows_of(source, target, edits, instruction, count, 512, first_only=False)
    assert len(wins) > 2
    for src, tgt in wins:
        assert count(src) <= 512 // 2
        assert tgt == re.sub(rf"\b{old}\b", new, src)
    assert "".join(s for s, _ in wins).count("\n") + len(wins) - 1 == source.count("\n")
    first = windowed.windows_of(source, target, edits, instruction, count, 512, first_only=True)
    assert first == wins[:1]


def test_fstrings_converted_forward_keep_the_sources_quotes():
    code = 'def line(etype, valuestr):\n    return "%s: %s\\n" % (etype, valuestr)'
    instruction, source, target, _ = build("fstring", code)
    assert target == 'def line(etype, valuestr):\n    return f"{etype}: {valuestr}\\n"'


def test_fstrings_over_several_lines_are_converted_piece_by_piece():
    code = '''def report(a, b, req, path_old, path_new, self):
    log.info(
        "Renaming file from [%s] to [%s]"
        % (path_old, path_new))
    x = ("a %s "  # the first half
         "b %d%%, plain %% piece " 'tail' % (a, b))
    z = ("Given {} "
         "hash {{x}}.".format(req))
    w = r'\\d+%s' % a
    return "{name}({dist!r})".format(
        name=self.name,
        dist=self.dist,
    )
'''
    _, source, target, _ = build("fstring", code)
    assert source == code
    assert target == '''def report(a, b, req, path_old, path_new, self):
    log.info(
        f"Renaming file from [{path_old}] to [{path_new}]")
    x = (f"a {a} "  # the first half
         f"b {b:d}%, plain % piece " 'tail')
    z = (f"Given {req} "
         f"hash {{x}}.")
    w = rf'\\d+{a}'
    return f"{self.name}({self.dist!r})"
'''


def test_an_expression_an_fstring_cannot_hold_in_place_is_joined_into_one_line():
    code = 'def name(self):\n    return ("{}-{}"\n            ".zip".format(self.name, self.meta["v"]))\n'
    _, _, target, _ = build("fstring", code)
    assert target == 'def name(self):\n    return (f"{self.name}-{self.meta[\'v\']}.zip")\n'


def test_fstrings_built_in_reverse_keep_each_piece_on_its_line():
    code = '''def report(a, x, c):
    log.info(f"a {a!r} b {c.d[1]:>4} "  # the first half
             "plain "
             f'{len(x)}% done {{ok}}\\n')
    return f"{a}-{x:.2f}"
'''
    sources = set()
    for seed in range(6):
        instruction, source, target, _ = build("fstring", code, seed)
        assert target == code
        sources.add(source)
    assert '''    log.info("a {!r} b {:>4} "  # the first half
             "plain "
             '{}% done {{ok}}\\n'.format(a, c.d[1], len(x)))
''' in "".join(sources)
    assert any('return "%s-%.2f" % (a, x)' in s for s in sources)
    assert any('return "{}-{:.2f}".format(a, x)' in s for s in sources)
