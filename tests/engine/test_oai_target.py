"""The definition an instruction names in a whole file ("add a docstring to quote")."""

from hypothesis import given, strategies as st

from engine.serve.oai.target import locate

FILE = ("import re\n\n_find_unsafe = re.compile(r'[^\\w@%+=:,./-]').search\n\n\n"
        "def quote(s):\n    if not s:\n        return \"''\"\n    return s\n\n\n"
        "class Lexer:\n    @property\n    def token(self):\n        return 1\n")


def span_text(code, target):
    return code[target.span[0]:target.span[1]]


def test_a_trailing_locator_targets_the_named_definition():
    t = locate(FILE, "", "add a docstring to quote")
    assert t.instruction == "add a docstring"
    assert span_text(FILE, t) == "def quote(s):\n    if not s:\n        return \"''\"\n    return s\n"
    for said in ("add a docstring to the function `quote`", "add a docstring to quote()",
                 "Add a docstring for the quote function.", "remove prints in quote"):
        assert span_text(FILE, locate(FILE, "python", said)).startswith("def quote(s):"), said


def test_methods_by_dotted_name_with_their_decorators():
    t = locate(FILE, "py", "add a docstring to Lexer.token")
    assert span_text(FILE, t) == "    @property\n    def token(self):\n        return 1\n"
    assert span_text(FILE, locate(FILE, "py", "add a docstring to token")).startswith("    @property")


def test_no_locator_an_unknown_name_or_a_rename_target_keeps_the_whole_code():
    for said in ("add a docstring", "add a docstring to parse", "rename s to quote", "to quote"):
        t = locate(FILE, "python", said)
        assert t.span is None and t.instruction == said, said
    t = locate(FILE, "python", "rename s to text in quote")
    assert t.instruction == "rename s to text" and span_text(FILE, t).startswith("def quote")


def test_other_languages_lose_the_locator_but_keep_the_whole_block():
    js = "function quote(s) {\n  return s;\n}\n"
    assert locate(js, "javascript", "add a docstring to quote").instruction == "add a docstring"
    assert locate(js, "javascript", "add a docstring to quote").span is None
    assert locate("def quote(:\n", "python", "add a docstring to quote").span is None  # unparsable


@given(st.lists(st.sampled_from(["x = 1\n", "\n", "# c\r\n", "y = 'é'\r", "def g():\n    pass\n"]), max_size=6),
       st.lists(st.sampled_from(["z = 2\n", "\n", "def h():\n    return 0\n"]), max_size=6))
def test_the_span_is_the_definition_whatever_surrounds_it(before, after):
    target = "def quote(s):\n    return s\n"
    code = "".join(before) + target + "".join(after)
    if code.count("def quote") != 1:
        return
    t = locate(code, "python", "add a docstring to quote")
    assert span_text(code, t) == target
