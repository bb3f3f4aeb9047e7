"""Pure parts of the OpenAI API: a conversation routed to an edit, and the response store."""

from hypothesis import given, strategies as st

from engine.serve.oai.edits import _PATH, ONLY_EDITS, NO_INSTRUCTION, Edit, closing, fenced_blocks, find_edit, opening, strip_fence


def test_an_instruction_and_a_fenced_block_make_an_edit():
    edit = find_edit([("system", "You are helpful."), ("user", "Remove prints\n\n```python\nprint(1)\nx = 2\n```\n")])
    assert isinstance(edit, Edit)
    assert edit.instruction == "Remove prints" and edit.block.code == "print(1)\nx = 2\n"
    assert edit.block.language == "python" and edit.block.filename is None


def test_the_instruction_may_come_after_the_code():
    edit = find_edit([("user", "```py\nx = 1\n```\nrename x to y")])
    assert edit.instruction == "rename x to y" and edit.block.language == "py"


def test_longer_fences_and_tildes_hold_shorter_fences():
    text = "add a docstring\n````markdown\n```python\nx = 1\n```\n````\n"
    [block] = fenced_blocks(text)
    assert block.code == "```python\nx = 1\n```\n" and block.language == "markdown"
    [tilde] = fenced_blocks("~~~\ny = 2\n~~~")
    assert tilde.code == "y = 2\n"


def test_file_names_from_the_line_above_or_the_info_string():
    aider = find_edit([("user", "src/util.py\n```\ndef f(): pass\n```"), ("assistant", "Ok."),
                       ("user", "add a docstring")])
    assert aider.block.filename == "src/util.py" and aider.instruction == "add a docstring"
    assert opening(aider.block) == "src/util.py\n```\n"
    continue_style = find_edit([("user", "```python src/app/main.py (10-12)\nx = 1\n```\nrename x to y")])
    assert continue_style.block.filename == "src/app/main.py" and continue_style.block.language == "python"


def test_a_follow_up_edits_the_last_answer():
    edit = find_edit([("user", "Remove prints\n```python\nprint(1)\ns = 0\n```"),
                      ("assistant", "```python\ns = 0\n```"), ("user", "rename s to acc")])
    assert edit.block.code == "s = 0\n" and edit.instruction == "rename s to acc"


def test_no_code_or_no_instruction_gets_an_answer_not_an_edit():
    assert find_edit([("user", "What is the capital of France?")]) == ONLY_EDITS
    assert find_edit([("system", "hi")]) == ONLY_EDITS
    assert find_edit([("user", "```python\nx = 1\n```")]) == NO_INSTRUCTION
    assert find_edit([("user", "Remove prints\n```python\nprint(1)\n")]) == ONLY_EDITS  # never closed


def test_closing_fence_and_prediction_fences():
    assert closing("x = 1\n") == "```" and closing("x = 1") == "\n```" and closing("") == "```"
    assert strip_fence("```python\nx = 1\n```") == "x = 1\n"
    assert strip_fence("x = 1\n") == "x = 1\n"


@given(st.text(alphabet=st.characters(blacklist_characters="`~\r", blacklist_categories=("Cs",)), max_size=200),
       st.text(alphabet=st.characters(blacklist_characters="`~\r\n", blacklist_categories=("Cs",)), min_size=1,
               max_size=60).filter(lambda s: s.strip() and not _PATH.match(s.strip())))
def test_any_code_in_a_fence_comes_back_exactly(code, instruction):
    # (a lone path-like line such as "0.0" or "app.py" above a fence names the file, by design)
    body = code if code.endswith("\n") or not code else code + "\n"
    edit = find_edit([("user", f"{instruction}\n```python\n{body}```\n")])
    assert isinstance(edit, Edit) and edit.block.code == body and edit.instruction == instruction.strip()


def test_the_response_store_is_bounded_in_count_and_size():
    from engine.serve.oai.responses import ResponseStore, Stored

    store = ResponseStore(limit=3, max_chars=100)
    for i in range(5):
        store.put(f"r{i}", Stored([("user", "x" * 10)], "m"))
    assert store.get("r0") is None and store.get("r1") is None and store.get("r4") is not None
    store.put("big", Stored([("user", "y" * 60)], "m"))
    store.put("big2", Stored([("user", "z" * 60)], "m"))
    assert store.get("big") is None and store.get("big2") is not None
    store.put("huge", Stored([("user", "w" * 101)], "m"))
    assert store.get("huge") is None


def test_indented_code_is_edited_at_the_margin_and_indented_back():
    from engine.serve.oai.edits import Reindent, common_indent, dedent

    method = "    def f(self):\n        print(1)\n\n        return 2\n"
    indent = common_indent(method)
    assert indent == "    " and dedent(method, indent) == "def f(self):\n    print(1)\n\n    return 2\n"
    back = Reindent(indent)
    streamed = "".join(back.push(piece) for piece in ["def f(se", "lf):\n", "\n    ret", "urn 2\n"])
    assert streamed == "    def f(self):\n\n        return 2\n"
    assert dedent("  a\nb\n", "  ") == "  a\nb\n"  # not every line has it: left alone
    assert common_indent("\tx\n\t\ty\n") == "\t" and common_indent("x\n  y\n") == ""


@given(st.lists(st.text(alphabet="ab ():\t", max_size=12), min_size=1, max_size=8),
       st.sampled_from(["", "  ", "    ", "\t"]), st.integers(1, 5))
def test_dedent_then_reindent_gives_the_code_back(lines, indent, cut):
    from engine.serve.oai.edits import Reindent, common_indent, dedent

    code = "".join(indent + line.strip() + "\n" if line.strip() else "\n" for line in lines)
    own = common_indent(code)
    flat = dedent(code, own)
    back = Reindent(own)
    assert "".join(back.push(flat[i:i + cut]) for i in range(0, len(flat), cut)) == code


def aider_request() -> list[tuple[str, str]]:
    """The messages of a real Aider 0.86.2 request in its `whole` edit format (captured verbatim)."""
    import json
    from pathlib import Path

    body = json.loads((Path(__file__).with_name("aider_whole_request.json")).read_text(encoding="utf-8"))
    return [(m["role"], m["content"]) for m in body["messages"]]


def test_aiders_whole_format_edits_the_file_it_added_not_its_format_example():
    messages = aider_request()
    assert "path/to/filename.js\n```\n// entire file content" in messages[-1][1]  # Aider's example, last
    edit = find_edit(messages)
    assert isinstance(edit, Edit)
    assert edit.block.filename == "quoting.py" and edit.block.code.startswith("import re\n")
    assert "def quote(s):" in edit.block.code and edit.instruction == "add a docstring to quote"
    assert opening(edit.block) == "quoting.py\n```\n"


def test_aiders_reminder_as_a_system_message_and_a_follow_up():
    messages = aider_request()
    reminder = messages[-1][1].split("\n\n", 1)[1]
    sys_reminder = messages[:-1] + [("user", "add a docstring to quote"), ("system", reminder)]
    assert find_edit(sys_reminder).block.filename == "quoting.py"
    answered = messages + [("assistant", "quoting.py\n```\ndef quote(s):\n    pass\n```\n"),
                           ("user", "rename s to text\n\n" + reminder)]
    follow = find_edit(answered)
    assert follow.instruction == "rename s to text" and follow.block.code == "def quote(s):\n    pass\n"
    assert find_edit(messages[:-1] + [("user", reminder)]) == NO_INSTRUCTION


def test_of_several_files_the_one_named_or_defining_the_named_function():
    files = ("I have added these files.\n\nsrc/a.py\n```\ndef parse(x):\n    return x\n```\n\n"
             "src/b.py\n```\ndef quote(s):\n    return s\n```\n")
    convo = [("user", files), ("assistant", "Ok.")]
    assert find_edit(convo + [("user", "remove prints in a.py")]).block.filename == "src/a.py"
    assert find_edit(convo + [("user", "add a docstring to parse")]).block.filename == "src/a.py"
    assert find_edit(convo + [("user", "add a docstring")]).block.filename == "src/b.py"  # the last
    assert find_edit(convo + [("user", "rename quote to q in b.py")]).block.filename == "src/b.py"


def test_a_user_instruction_equal_to_a_word_of_the_system_prompt_is_kept():
    edit = find_edit([("system", "Simplify\nthe code."), ("user", "Simplify\n```python\nx = 1\n```")])
    assert edit.instruction == "Simplify"
    example = find_edit([("system", "Answer like this:\n```\nx = 1\n```"), ("user", "tidy\n```\nx = 1\n```")])
    assert example == ONLY_EDITS  # the only block is the system prompt's example


def test_answers_use_the_fence_of_the_question():
    [block] = fenced_blocks("f.md\n````\n```\ncode\n```\n````\n")
    assert opening(block) == "f.md\n````\n" and closing("x\n", block.fence) == "````"
