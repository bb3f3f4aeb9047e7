"""Quick actions come from the model's skills and are filled from the code at the cursor. No Qt."""

from __future__ import annotations

from app.core.edit.quick_actions import FREE_FORM, actions_for, fill, identifier_at

SKILLS = ("rename_variable", "rename_function", "add_docstring", "remove_prints", "fstring")
EXAMPLES = ("rename variable x to total", "rename function parse to parse_header", "add a docstring",
            "remove print statements", "convert to f-strings")
CODE = "class Greeter:\n    def greet(self, times):\n        result = []\n        return result\n"


def test_a_model_with_skills_gets_one_button_per_skill_worded_as_trained():
    actions = actions_for(SKILLS, EXAMPLES)
    assert [a.label for a in actions] == ["Rename", "Docstring", "No prints", "f-strings"]
    assert [a.shortcut for a in actions] == ["Alt+1", "Alt+2", "Alt+3", "Alt+4"]
    unknown = actions_for(("sort_imports",), ("sort the imports",))
    assert [(a.label, a.instruction) for a in unknown] == [("Sort imports", "sort the imports")]


def test_a_model_without_skills_gets_free_form_actions():
    assert [a.label for a in actions_for(())] == [a.label for a in FREE_FORM]
    assert "Type hints" in [a.label for a in actions_for(())]


def test_rename_proposes_the_identifier_under_the_cursor_with_the_cursor_after_to():
    rename = actions_for(SKILLS, EXAMPLES)[0]
    at = CODE.index("result = []") + 3
    filled = fill(rename, CODE, at, at)
    assert filled.text == "rename variable result to "
    assert filled.select_start == filled.select_end == len(filled.text)
    on_method = CODE.index("greet") + 5  # just after the word
    assert fill(rename, CODE, on_method, on_method).text == "rename function greet to "
    selected = CODE.index("times")
    assert fill(rename, CODE, selected, selected + len("times")).text == "rename variable times to "


def test_without_an_identifier_the_placeholder_is_selected_to_type_over():
    rename = actions_for(SKILLS, EXAMPLES)[0]
    filled = fill(rename, CODE, CODE.index("return") + 2, CODE.index("return") + 2)  # a keyword
    assert filled.text == "rename variable old_name to "
    assert filled.text[filled.select_start:filled.select_end] == "old_name"
    free = fill(FREE_FORM[0], CODE, CODE.index("result"), CODE.index("result"))
    assert free.text.startswith("Rename `result` to `new_name`")
    assert free.text[free.select_start:free.select_end] == "new_name"


def test_identifiers_in_any_script_and_not_keywords():
    assert identifier_at("mot = 1", 1) == "mot"
    assert identifier_at("名前 = 1", 1) == "名前"
    assert identifier_at("for x in y", 1) is None
    assert identifier_at("a  b", 2) is None
    assert identifier_at("obj.attr", 6) == "attr"
