"""The one character edit between the text the engine holds and the editor's. No Qt, no engine."""

from hypothesis import given
from hypothesis import strategies as st

from app.core.link.delta import edit_between
from wire import apply_edits

TEXT = st.text(alphabet="ab\n é😀", max_size=60)


@given(TEXT, TEXT)
def test_the_edit_turns_the_old_text_into_the_new(old, new):
    edit = edit_between(old, new)
    assert apply_edits(old, [edit.to_message()]) == new
    assert 0 <= edit.start <= edit.end <= len(old)


@given(TEXT, st.integers(min_value=0), TEXT)
def test_a_keystroke_sends_only_what_was_typed(text, at, typed):
    at = at % (len(text) + 1)
    edit = edit_between(text, text[:at] + typed + text[at:])
    assert edit.end - edit.start == 0 and len(edit.text) == len(typed)


def test_a_line_typed_into_a_long_file_is_a_short_edit():
    old = "".join(f"line_{i} = {i}\n" for i in range(6000))
    new = old.replace("line_3000 = 3000\n", "line_3000 = 3000\n# 1\n")
    edit = edit_between(old, new)
    assert edit.text == "# 1\n" and edit.start == edit.end == old.index("line_3001")
    assert edit_between(old, old).text == "" and edit_between(old, old).start == edit_between(old, old).end
