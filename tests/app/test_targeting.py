"""Which text an edit targets, and the context-fit check."""

import codecs
from pathlib import Path

from app.core.edit.targeting import check_fit, choose_target, enclosing_function, output_budget

SOURCE = '''import os


def outer(x):
    """Outer."""

    def inner(y):
        return y + 1

    return inner(x)


@decorated
async def fetch(url):
    return url


class Box:
    def size(self):
        return 3
'''


def offset_of(snippet: str) -> int:
    return SOURCE.index(snippet)


def test_selection_wins_over_function():
    start = offset_of("return y")
    target = choose_target(SOURCE, start, start + 8)
    assert (target.start, target.end, target.kind) == (start, start + 8, "selection")
    assert "line 8" in target.label


def test_reversed_selection_is_normalised():
    start = offset_of("return y")
    target = choose_target(SOURCE, start + 8, start)
    assert (target.start, target.end) == (start, start + 8)


def test_cursor_in_nested_function_targets_the_innermost():
    target = choose_target(SOURCE, offset_of("y + 1"), offset_of("y + 1"))
    assert target.kind == "function"
    assert SOURCE[target.start:target.end] == "    def inner(y):\n        return y + 1\n"
    assert "inner" in target.label


def test_cursor_in_outer_function_body_targets_outer():
    target = choose_target(SOURCE, offset_of("return inner"), offset_of("return inner"))
    assert SOURCE[target.start:target.end].startswith("def outer(x):")
    assert SOURCE[target.start:target.end].endswith("return inner(x)\n")


def test_decorators_belong_to_the_function():
    target = enclosing_function(SOURCE, offset_of("return url"))
    assert SOURCE[target.start:target.end] == "@decorated\nasync def fetch(url):\n    return url\n"


def test_method_is_a_function_target():
    target = choose_target(SOURCE, offset_of("return 3"), offset_of("return 3"))
    assert SOURCE[target.start:target.end].strip().startswith("def size")


def test_cursor_outside_functions_targets_the_file():
    target = choose_target(SOURCE, 0, 0)
    assert (target.start, target.end, target.kind) == (0, len(SOURCE), "file")


def test_unparsable_file_falls_back_to_whole_file():
    broken = "def f(:\n    return 1\n"
    target = choose_target(broken, 10, 10)
    assert (target.kind, target.start, target.end) == ("file", 0, len(broken))


def test_non_python_has_no_function_targets():
    assert choose_target(SOURCE, offset_of("y + 1"), offset_of("y + 1"), "rust").kind == "file"


def test_out_of_range_cursor_is_clamped_not_a_crash():
    target = choose_target("x = 1\n", 999, 999)
    assert target.kind == "file"


def test_small_prompt_fits():
    fit = check_fit(prompt_tokens=100, target_text="x = 1\n", instruction="rename x", context_length=4096)
    assert fit.fits and fit.message() == ""
    assert 0 < fit.fraction < 1


def test_prompt_too_large_gets_a_clear_message():
    big = "value = compute(value)\n" * 4000
    fit = check_fit(prompt_tokens=0, target_text=big, instruction="add types", context_length=2048)
    assert not fit.fits
    assert "2,048" in fit.message() and "smaller" in fit.message()


def test_unknown_context_length_never_blocks():
    assert check_fit(10**6, "x", "y", 0).fits


def test_output_budget_is_capped_by_context_left():
    assert output_budget("x" * 10_000, context_left=100) == 100
    assert output_budget("x") >= 256


def test_in_a_long_file_the_function_is_found_from_its_neighbourhood_with_true_line_numbers(monkeypatch):
    import app.core.edit.targeting as targeting

    source = Path(codecs.__file__).read_text(encoding="utf-8")
    long_text = source * (2 * targeting.WHOLE_PARSE_CHARS // len(source) + 2)
    offsets = range(0, len(long_text), len(long_text) // 97)
    near = [choose_target(long_text, at, at) for at in offsets]  # the file is too long to parse whole
    monkeypatch.setattr(targeting, "WHOLE_PARSE_CHARS", len(long_text) + 1)
    assert near == [choose_target(long_text, at, at) for at in offsets]
    assert sum(t.kind == "function" for t in near) > 50


def test_a_long_module_gives_the_function_a_whole_parse_gives_at_every_cursor():
    import ast
    import random
    import sysconfig
    from pathlib import Path

    from app.core.edit.targeting import NARROW_CHARS, enclosing_function

    text = (Path(sysconfig.get_paths()["stdlib"]) / "_pydecimal.py").read_text(encoding="utf-8")
    assert len(text) > 10 * NARROW_CHARS  # long enough to be parsed piece by piece
    spans = [(min([n.lineno, *(d.lineno for d in n.decorator_list)]), n.end_lineno, n.name)
             for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    rng = random.Random(10)
    for offset in [rng.randrange(len(text)) for _ in range(150)]:
        line = text.count("\n", 0, offset) + 1
        holding = [s for s in spans if s[0] <= line <= s[1]]
        expected = max(holding, key=lambda s: s[0]) if holding else None
        found = enclosing_function(text, offset)
        if expected is None:
            assert found is None, (line, found)
            continue
        first, last, name = expected
        assert found is not None and found.label == f"function {name} (lines {first}–{last})", (line, found)
        assert text.count("\n", 0, found.start) == first - 1 and text.count("\n", 0, found.end) == last
