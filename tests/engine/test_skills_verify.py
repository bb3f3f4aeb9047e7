"""The engine's check of a finished edit against its skill's rule (engine/skills/verify.py)."""

from __future__ import annotations

from engine.skills.verify import check, message

SOURCE = '''def f(a, total):
    x = total + 1
    print(x)
    if x:
        print("big", x)
    return "%s items" % x
'''


def test_the_skills_own_edit_passes_whatever_its_formatting():
    assert check("rename_variable", "rename total to acc", SOURCE, SOURCE.replace("total", "acc")) is None
    assert check("remove_prints", "remove prints", SOURCE,
                 SOURCE.replace('    print(x)\n', "").replace('print("big", x)', "pass")) is None
    assert check("fstring", "use f-strings", SOURCE, SOURCE.replace('"%s items" % x', 'f"{x} items"')) is None
    doc = SOURCE.replace("total):\n", 'total):\n    """Return f given a and total."""\n')
    assert check("add_docstring", "add a docstring", SOURCE, doc) is None
    assert check("add_docstring", "add a docstring", SOURCE, doc.replace("given a", "of a")) is None  # any wording


def test_an_edit_that_parses_but_is_not_the_skills_edit_names_its_first_different_line():
    half = SOURCE.replace("a, total", "a, acc")  # the parameter renamed, its use on line 2 not
    assert check("rename_variable", "rename `total` to acc", SOURCE, half) == ("renaming total to acc", 2)
    too_much = SOURCE.replace('    print(x)\n', "").replace('    if x:\n        print("big", x)\n', "")
    assert check("remove_prints", "remove print statements", SOURCE, too_much) == ("removing the print statements", 3)
    lost_arg = SOURCE.replace('"%s items" % x', 'f"items"')
    assert check("fstring", "convert to f-strings", SOURCE, lost_arg) == (
        "converting the string formatting to f-strings", 6)
    doc_and_more = SOURCE.replace("total):\n", 'total):\n    """Doc."""\n').replace("total + 1", "total")
    assert check("add_docstring", "add a docstring", SOURCE, doc_and_more) == ("adding a docstring", 3)
    assert message("renaming total to acc", 12) == (
        "the edit differs from renaming total to acc at line 12: review it before accepting")


def test_unchanged_unparsable_and_unknown_edits_are_left_to_their_own_notices():
    assert check("rename_variable", "rename total to acc", SOURCE, SOURCE) is None  # the "unchanged" notice
    assert check("rename_variable", "rename total to acc", SOURCE, "def f(:\n") is None  # the parse check
    assert check("add_type_hints", "add type hints", SOURCE, SOURCE.replace("a,", "a: int,")) is None
    method = "    def m(self, total):\n        return total\n"  # a method, indented as in its class
    assert check("rename_variable", "rename total to n", method, method.replace("total", "n")) is None


def test_the_engines_notice_names_the_document_line_of_a_method(tmp_path):
    from engine.decode.job import review_notice
    from engine.decode.session import Document, Engine
    from engine.model.modelspec import MODELS_DIR

    text = "import os\n\n\nclass Tally:\n\n    def add(self, total):\n        x = total + 1\n        return x\n"
    engine = Engine(MODELS_DIR / "tessera-edit-mini", threads=1)
    try:
        engine.open("s", Document(text))
        start = text.index("\n    def add") + 1  # the app selects whole lines (and here one blank line before)
        job = engine.make_job("s", "r", "rename variable total to acc", (start - 1, len(text)))
        right = job.model_code.replace("total", "acc")
        assert review_notice(engine.spec, job, right) is None
        wrong = job.model_code.replace("self, total", "self, acc")  # line 7 of the file still says total
        assert review_notice(engine.spec, job, wrong) == message("renaming total to acc", 7)
        engine.unregister(job)
        other = engine.make_job("s", "r2", "add type hints", (start, len(text)))  # not a skill: no rule to check
        assert review_notice(engine.spec, other, wrong) is None
    finally:
        engine.close()


def test_a_docstring_target_starts_with_a_def_past_decorators_over_several_lines():
    from engine.decode.session import starts_with_function

    assert starts_with_function("# helper\n@unittest.skipIf(sys.platform == 'win32',\n"
                                "                 'not on Windows')\n@property\nasync def f(self):\n    pass\n")
    assert starts_with_function("    def __lt__(self_, other): return 0\n")
    assert not starts_with_function('"""Text wrapping and filling."""\n\nimport re\n\ndef f():\n    pass\n')
    assert not starts_with_function("class C:\n    def f(self):\n        pass\n")
