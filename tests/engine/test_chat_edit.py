"""The chat edit prompt and the streaming fence filter, over arbitrary chunkings."""

from __future__ import annotations

import inspect
import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model.chat_edit import EchoFilter, FenceFilter, build_chat_edit, fence_for

SOURCE = inspect.getsource(textwrap.dedent)  # code the project did not write


def chunked(text: str, cuts: list[int]) -> list[str]:
    points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in zip(points, points[1:])]


def run_filter(chunks: list[str], keep_final_newline: bool = True) -> tuple[str, list[str]]:
    f = FenceFilter(keep_final_newline=keep_final_newline)
    seen: list[str] = []
    for c in chunks:
        seen.append(f.feed(c))
    seen.append(f.finish())
    return "".join(seen), seen


code_lines = st.lists(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r`~\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
            max_size=30), min_size=1, max_size=12)
prose = st.sampled_from(["", "Here is the edited code:\n", "Sure! I added the hints.\n\n", "Done.\n"])
after = st.sampled_from(["", "\n", "\nThis keeps the behaviour.\n", "\n\nAnything else?"])
info = st.sampled_from(["", "python", "py", " python", "textwrap.py"])


@settings(max_examples=300, deadline=None)
@given(code_lines, prose, after, info, st.lists(st.integers(0, 400), max_size=25), st.booleans())
def test_any_chunking_yields_exactly_the_code_and_never_retracts(lines, before, tail, lang, cuts, final_nl):
    code = "\n".join(lines) + "\n"
    answer = f"{before}```{lang}\n{code}```{tail}"
    out, pieces = run_filter(chunked(answer, cuts), final_nl)
    want = code if final_nl else code[:-1]
    assert out == want
    shown = ""
    for p in pieces:  # every prefix shown is a prefix of the final code: nothing shown is taken back
        shown += p
        assert want.startswith(shown)
        assert "```" not in p


def test_fences_and_prose_never_reach_the_output_of_real_code():
    answer = ("Certainly! Here's the updated function with type hints:\n\n````python\n" + SOURCE
              + "````\n\nI only changed the signature.")
    for size in (1, 2, 3, 7, 64):
        out, _ = run_filter([answer[i:i + size] for i in range(0, len(answer), size)])
        assert out == SOURCE


def test_code_holding_backticks_survives_a_longer_fence():
    code = 'DOC = """\n```python\nx = 1\n```\n"""\n'
    fence = fence_for(code)
    assert fence == "````"
    out, _ = run_filter([f"{fence}python\n{code}{fence}\n"])
    assert out == code


def test_an_unfenced_answer_is_taken_whole_at_the_end():
    f = FenceFilter()
    assert f.feed("def f(x: int) -> int:\n") == ""
    assert f.feed("    return x\n") == ""
    assert f.finish() == "def f(x: int) -> int:\n    return x\n"


def test_a_closing_fence_without_a_final_newline():
    out, _ = run_filter(["```\na = 1\nb = 2\n```"])
    assert out == "a = 1\nb = 2\n"


def test_an_unclosed_block_releases_its_last_line():
    out, _ = run_filter(["```py\na = 1\nb = 2"])  # cut short (length): nothing is added
    assert out == "a = 1\nb = 2"


def test_only_the_first_block_counts():
    out, _ = run_filter(["```\na = 1\n```\nor:\n```\na = 2\n```\n"])
    assert out == "a = 1\n"


def test_prompt_puts_code_before_the_instruction_and_predicts_the_selection():
    doc = "import os\n\n" + SOURCE + "\nprint('end')\n"
    start = doc.index("def dedent")
    end = start + len(SOURCE)
    edit = build_chat_edit("add type hints", doc, (start, end), path="/usr/lib/python3.11/textwrap.py")
    system, user = edit.messages
    assert system["role"] == "system" and "smallest change" in system["content"]
    body = user["content"]
    assert "File: textwrap.py" in body
    assert body.index("import os") < body.index("print('end')") < body.index("def dedent") < body.index("add type hints")
    assert "```python\n" in body
    assert edit.prediction == SOURCE
    assert edit.keep_final_newline


def test_a_redirect_shows_the_kept_part_and_predicts_the_rest():
    code = "def f(a, b):\n    return a + b\n"
    edit = build_chat_edit("rename a to x", code, partial="def f(x, b):\n")
    body = edit.messages[-1]["content"]
    assert "def f(x, b):" in body and "remaining" in body
    assert edit.prediction == ""  # the kept part already differs from the original
    edit = build_chat_edit("rename a to x", code, partial="def f(a, b):\n")
    assert edit.prediction == "    return a + b\n"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(max_size=40), st.booleans(), st.lists(st.integers(0, 80), max_size=8))
def test_echo_filter_drops_a_repeat_and_keeps_a_continuation(partial, rest, echoed, cuts):
    text = (partial + rest) if echoed else rest
    f = EchoFilter(partial)
    out = "".join(f.feed(c) for c in chunked(text, cuts)) + f.finish()
    if not partial.strip():
        assert out == text
    elif echoed:
        assert out == rest
    elif not partial.startswith(rest):
        # a continuation that departs from the kept part passes unchanged
        assert out == (rest[len(partial):] if rest.startswith(partial) else rest)


def test_an_unfenced_answer_opening_with_a_line_of_the_original_streams_at_once():
    f = FenceFilter(known_lines=frozenset({"def dedent(text):", "return text"}))
    assert f.feed("\ndef dedent(text: str) -> str:\n") == ""  # not a line of the original: held
    f = FenceFilter(known_lines=frozenset({"def dedent(text):", "return text"}))
    assert f.feed("def dedent(text):\n    text = text.strip()") == "def dedent(text):\n    text = text.strip()"
    assert f.feed("\n```\nThat is all.") == "\n"  # the closing fence ends the code; prose after is dropped
    assert f.finish() == ""
    assert "".join(f.emitted) == "def dedent(text):\n    text = text.strip()\n"


def test_prose_before_a_known_line_keeps_the_answer_waiting_for_a_fence():
    f = FenceFilter(known_lines=frozenset({"return text"}))
    assert f.feed("Here you go:\nreturn text\n") == ""
    assert f.feed("```python\nreturn text.strip()\n```\n") == "return text.strip()\n"
