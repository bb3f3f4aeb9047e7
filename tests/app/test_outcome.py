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
