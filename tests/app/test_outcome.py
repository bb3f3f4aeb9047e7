"""What the user is told when an edit is out of scope, breaks the file, or is too long. No Qt."""

from __future__ import annotations

from app.core.edit.outcome import out_of_scope_notice, overflow_notice, skills_phrase, syntax_problem, unparsable_notice

FILE = "import os\n\n\nclass Report:\n    def total(self, items):\n        total = 0\n" \
       "        for item in items:\n            total += item\n        return total\n"
METHOD = FILE.index("    def total")


def test_an_edit_that_breaks_the_file_names_the_file_line_and_the_output_line():
    output = FILE[METHOD:].replace("total = 0", "lambda = 0")
    problem = syntax_problem(FILE, METHOD, len(FILE), output)
    assert (problem.file_line, problem.out_line) == (6, 1)
    assert problem.describe().startswith("line 6: ")


def test_an_output_that_parses_alone_but_breaks_its_surroundings_is_caught():
    dedented = "def total(self, items):\n    return 0\n"  # lost the method's indentation
    problem = syntax_problem(FILE, METHOD, len(FILE), dedented)
    assert problem is not None and problem.file_line >= 5


def test_nothing_is_blamed_on_an_edit_of_code_that_did_not_parse_before():
    broken = "def f(:\n    return 1\n"
    assert syntax_problem(broken, 0, len(broken), "def f(:\n    return 2\n") is None
    assert syntax_problem(FILE, METHOD, len(FILE), FILE[METHOD:].replace("total", "sum_")) is None


def test_a_large_file_is_checked_on_the_target_alone(monkeypatch):
    import app.core.edit.outcome as outcome

    monkeypatch.setattr(outcome, "WHOLE_FILE_CHARS", 10)
    output = FILE[METHOD:].replace("total = 0", "lambda = 0")
    problem = syntax_problem(FILE, METHOD, len(FILE), output)
    assert (problem.file_line, problem.out_line) == (6, 1)


def test_out_of_scope_names_the_skills_and_the_way_to_a_larger_model():
    notice = out_of_scope_notice("add type hints", "tessera-edit-mini",
                                 ("rename variable x to total", "add a docstring", "convert to f-strings"))
    assert notice.kind == "out_of_scope" and notice.action == "Choose a model…"
    assert "“add type hints”" in notice.text and "tessera-edit-mini" in notice.text
    assert "“rename variable x to total” · “add a docstring” · “convert to f-strings”." in notice.text
    assert "Model ▾" in notice.text and "endpoint" in notice.text and "larger model" in notice.text
    assert skills_phrase(()) == "" and skills_phrase(("a",)) == "“a”"


def test_overflow_offers_to_narrow_only_when_there_is_something_narrower():
    message = "Too long for the model: holds 512 tokens"
    narrow = overflow_notice(message, "function scale")
    assert narrow.action == "Narrow to function scale" and "512" in narrow.text
    stuck = overflow_notice(message, None)
    assert stuck.action == "" and "select a smaller part" in stuck.text
    engine = overflow_notice("Too long: one window holds 230. Select less code (the enclosing function), "
                             "or load a model with a longer context.", None)
    assert engine.text.count("longer context") == 1 and engine.text.endswith("stays in the bar.")


def test_unparsable_says_where_and_that_accept_all_asks():
    problem = syntax_problem(FILE, METHOD, len(FILE), FILE[METHOD:].replace("total = 0", "lambda = 0"))
    text = unparsable_notice(problem).text
    assert "line 6" in text and "Ctrl+Enter asks" in text


def test_pythons_detected_at_suffix_is_not_repeated():
    output = FILE[METHOD:].replace("total = 0", "total = 'open")
    problem = syntax_problem(FILE, METHOD, len(FILE), output)
    assert problem.file_line == 6 and "detected at" not in problem.message


def _pydecimal() -> str:
    import sysconfig
    from pathlib import Path

    return (Path(sysconfig.get_paths()["stdlib"]) / "_pydecimal.py").read_text(encoding="utf-8")


BREAKS = {  # ways an output can break a method, each applied to the method's text
    "keyword": lambda m: m.replace("\n", "\n" + " " * (len(m) - len(m.lstrip())) + "        lambda = 0\n", 1),
    "dedented": lambda m: "\n".join(line[4:] if line.startswith("    ") else line for line in m.split("\n")),
    "column 0 after": lambda m: m + "x = 1\n",
    "extra indent": lambda m: m.replace("\n", "\n  ", 2),
    "dangling decorator": lambda m: m + "    @property\n",
    "open bracket": lambda m: m.replace("(", "((", 1),
    "unchanged": lambda m: m,
}


def test_a_long_file_gets_the_verdict_of_a_whole_file_parse_from_the_code_around_the_edit():
    import ast
    import random

    from app.core.edit.targeting import choose_target

    text = _pydecimal()
    defs = [n for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    starts = [0, *(i + 1 for i, c in enumerate(text) if c == "\n")]
    for node in random.Random(4).sample(defs, 15):
        at = starts[node.lineno - 1] + 4
        target = choose_target(text, at, at)
        method = text[target.start:target.end]
        for how, brk in BREAKS.items():
            output = brk(method)
            edited = text[:target.start] + output + text[target.end:]
            try:
                ast.parse(edited)
                expected = None
            except SyntaxError as exc:
                expected = exc.lineno
            problem = syntax_problem(text, target.start, target.end, output)
            assert (problem is None) == (expected is None), (how, target.label, problem)
            if problem is not None and how != "open bracket":  # an open bracket: where Python gives up
                assert problem.file_line == expected, (how, target.label, problem, expected)


def test_a_long_file_is_not_parsed_whole_to_check_an_edit_of_one_method(monkeypatch):
    import ast

    import app.core.edit.outcome as outcome
    from app.core.edit.targeting import choose_target

    text = _pydecimal()
    parsed: list[int] = []
    real_parse = ast.parse
    monkeypatch.setattr(outcome.ast, "parse", lambda code, *a, **k: parsed.append(len(code.strip())) or real_parse(code, *a, **k))
    at = text.index("    def to_eng_string(") + 10
    target = choose_target(text, at, at)
    output = text[target.start:target.end].replace("return", "return return", 1)
    problem = syntax_problem(text, target.start, target.end, output)
    assert problem is not None and problem.out_line >= 0
    assert parsed and max(parsed) < len(text) // 50  # the method and its stand-ins, not 6,400 lines
