"""The draft aligner: predicted outputs per skill, pointer following, features, clone.

A toy word-level vocabulary keeps the token runs readable; the last tests run the shipped model
folder's own tokenizer and aligner spec on real code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.model.align import AlignerSpecError, make_aligner

WORDS = ["pass", "Do", "Return", "def ", "f", "g", "x", "y", "total", "_", "count", "self", "print", "return ", "rename", " to ",
         "remove", "prints", "add", "docstring", "a", "format", "s", "r", "2f", "convert", "f-strings",
         "value", "n", "do"]
PUNCT = [" ", " given ", " and ", "(", ")", ",", ", ", ":", ".", "=", " = ", " + ", "'", "{", "}", "%", " % ", "!", '"""']
NEWLINES = ["\n", "\n    ", "\n        "]
SPECIAL = ["<pad>", "<end>"]
VOCAB = SPECIAL + WORDS + PUNCT + NEWLINES
ID = {t: i for i, t in enumerate(VOCAB)}


def ids(*tokens: str) -> list[int]:
    return [ID[t] for t in tokens]


def text(seq: list[int]) -> list[str]:
    return [VOCAB[i] for i in seq]


def toy_spec() -> dict:
    punct: dict[str, list[int]] = {}
    for t in PUNCT:
        c = t.strip(" ")
        if len(c) == 1:
            punct.setdefault(c, []).append(ID[t])
    words = [w for w in WORDS if w.replace("_", "a").isalnum()]
    return {
        "kind": "edit-draft-v1", "pad": ID["<pad>"], "end": ID["<end>"],
        "word_ids": [ID[w] for w in words],
        "newline_ids": [ID[t] for t in NEWLINES],
        "triggers": {"rename": [[ids("rename")]], "remove_prints": [[ids("remove")], [ids("prints")]],
                     "add_docstring": [[ids("add")], [ids("docstring")]], "fstring": [[ids("f-strings")]]},
        "rename_separator": ids(" to "), "print_head": ids("print", "("),
        "def_ids": ids("def "), "skip_words": ids("self"),
        "punct": punct, "bare": {c: ID[c] for c in ["'", "{", "}", "!", ":", "f", ".", "=", '"""', " ", ", ", " given ",
                                                      " and ", "pass"]},
        "token_text": {str(i): t for i, t in enumerate(VOCAB) if i >= len(SPECIAL)},
        "heads": [[ids("do"), ids("Do")]], "default_head": ids("Return"),
    }


# def f(x, total):
#     y = x + total
#     print(y)
#     return y
SOURCE = ids("def ", "f", "(", "x", ", ", "total", ")", ":", "\n    ", "y", " = ", "x", " + ", "total",
             "\n    ", "print", "(", "y", ")", "\n    ", "return ", "y")


def follow(al, output: list[int]) -> list[dict]:
    feats = [al.next_features()]
    for t in output:
        al.push(t)
        feats.append(al.next_features())
    return feats


def test_rename_offers_the_new_name_at_every_whole_identifier():
    al = make_aligner(toy_spec(), SOURCE, ids("rename", " ", "x", " to ", "count", "_", "n"))
    assert text(al.predicted) == text(ids("def ", "f", "(", "count", "_", "n", ", ", "total", ")", ":", "\n    ",
                                          "y", " = ", "count", "_", "n", " + ", "total", "\n    ", "print", "(", "y",
                                          ")", "\n    ", "return ", "y"))


def test_rename_leaves_longer_identifiers_alone():
    source = ids("x", "_", "y", " = ", "x")
    al = make_aligner(toy_spec(), source, ids("rename", " ", "x", " to ", "total"))
    assert text(al.predicted) == ["x", "_", "y", " = ", "total"]


def test_drafts_follow_the_expected_edit_to_the_end():
    instr = ids("rename", " ", "x", " to ", "count")
    al = make_aligner(toy_spec(), SOURCE, instr)
    target = al.predicted
    feats = follow(al, target)
    assert [f["draft"] for f in feats] == target + [ID["<end>"]]
    # the source feature shows the old name where the new one is offered
    at = target.index(ID["count"])
    assert feats[at]["source"] == ID["x"]


def test_remove_prints_skips_the_print_line():
    al = make_aligner(toy_spec(), SOURCE, ids("remove", " ", "prints"))
    assert text(al.predicted) == text(ids("def ", "f", "(", "x", ", ", "total", ")", ":", "\n    ", "y", " = ", "x",
                                          " + ", "total", "\n    ", "return ", "y"))


def test_rename_skips_attributes_and_keyword_arguments():
    # def f(x=y):\n    self.x = g(x=x)
    source = ids("def ", "f", "(", "x", "=", "y", ")", ":", "\n    ", "self", ".", "x", " = ", "g", "(", "x", "=",
                 "x", ")")
    al = make_aligner(toy_spec(), source, ids("rename", " ", "x", " to ", "n"))
    assert text(al.predicted) == ["def ", "f", "(", "n", "=", "y", ")", ":", "\n    ", "self", ".", "x", " = ", "g",
                                  "(", "x", "=", "n", ")"]


def test_function_rename_follows_self_calls():
    source = ids("def ", "f", "(", "self", ")", ":", "\n    ", "self", ".", "f", "(", ")", "\n    ", "g", ".", "f")
    al = make_aligner(toy_spec(), source, ids("rename", " ", "f", " to ", "g"))
    assert text(al.predicted) == ["def ", "g", "(", "self", ")", ":", "\n    ", "self", ".", "g", "(", ")", "\n    ",
                                  "g", ".", "f"]


def test_remove_prints_leaves_pass_in_a_block_it_would_empty():
    source = ids("def ", "f", "(", ")", ":", "\n    ", "print", "(", "x", ")")
    al = make_aligner(toy_spec(), source, ids("remove", " ", "prints"))
    assert text(al.predicted) == ["def ", "f", "(", ")", ":", "\n    ", "pass"]


def test_docstring_draft_lists_signature_words_after_the_def_line():
    al = make_aligner(toy_spec(), ids("def ", "do", "_", "value", "(", "self", ", ", "n", ")", ":", "\n    ",
                                      "return ", "n"), ids("add", " ", "docstring"))
    assert text(al.predicted) == ["def ", "do", "_", "value", "(", "self", ", ", "n", ")", ":", "\n    ",
                                  '"""', "Do", " ", "value", " given ", "n", ".", '"""', "\n    ", "return ", "n"]


def test_format_call_becomes_an_fstring_prediction():
    source = ids("return ", "'", "{", "}", ":", "{", "}", "'", ".", "format", "(", "x", ", ", "y", ")")
    al = make_aligner(toy_spec(), source, ids("convert", " ", "f-strings"))
    assert text(al.predicted) == ["return ", "f", "'", "{", "x", "}", ":", "{", "y", "}", "'"]


def test_percent_format_becomes_an_fstring_prediction():
    source = ids("return ", "'", "%", "s", "=", "%", "r", "'", " % ", "(", "x", ", ", "y", ")")
    al = make_aligner(toy_spec(), source, ids("convert", " ", "f-strings"))
    assert text(al.predicted) == ["return ", "f", "'", "{", "x", "}", "=", "{", "y", "!", "r", "}", "'"]


def test_percent_operand_ends_where_percent_stops_binding():
    # return '%.2f' % x + y  →  return f'{x:.2f}' + y
    source = ids("return ", "'", "%", ".", "2f", "'", " % ", "x", " + ", "y")
    al = make_aligner(toy_spec(), source, ids("convert", " ", "f-strings"))
    assert text(al.predicted) == ["return ", "f", "'", "{", "x", ":", ".", "2f", "}", "'", " + ", "y"]


def test_format_fields_by_keyword():
    # '{n}{}'.format(x, n=y)  →  f'{y}{x}'
    source = ids("'", "{", "n", "}", "{", "}", "'", ".", "format", "(", "x", ", ", "n", "=", "y", ")")
    al = make_aligner(toy_spec(), source, ids("convert", " ", "f-strings"))
    assert text(al.predicted) == ["f", "'", "{", "y", "}", "{", "x", "}", "'"]


def test_out_of_scope_instruction_predicts_the_source():
    al = make_aligner(toy_spec(), SOURCE, ids("add"))
    assert al.predicted == SOURCE


def test_pointer_recovers_after_one_wrong_token():
    al = make_aligner(toy_spec(), SOURCE, ids("add"))
    out = SOURCE[:10] + [ID["total"]] + SOURCE[11:]  # one wrong token mid-line
    feats = follow(al, out)
    # the stray token matches a later `total`; two agreeing tokens later the pointer is back
    assert [f["draft"] for f in feats[13:]] == SOURCE[13:] + [ID["<end>"]]


def test_prompt_features_pad_all_but_the_edit_position():
    al = make_aligner(toy_spec(), SOURCE, ids("add"))
    feats = al.prompt_features(5)
    assert set(feats) == {"draft", "draft_next", "source"}
    for name, arr in feats.items():
        assert arr.dtype == np.int64 and arr.shape == (5,)
        assert (arr[:-1] == ID["<pad>"]).all()
    assert feats["draft"][-1] == SOURCE[0] and feats["draft_next"][-1] == SOURCE[1]


def test_lookahead_drafts_the_edited_continuation():
    al = make_aligner(toy_spec(), SOURCE, ids("rename", " ", "x", " to ", "count"))
    for t in SOURCE[:3]:  # def f(
        al.push(t)
    assert text(al.lookahead(3)) == ["count", ", ", "total"]
    assert al.lookahead(0) == [] and len(al.lookahead(1000)) == len(al.predicted) - 3


def test_clone_is_independent():
    al = make_aligner(toy_spec(), SOURCE, ids("add"))
    al.push(SOURCE[0])
    c = al.clone()
    c.push(SOURCE[1])
    c.push(SOURCE[2])
    assert al.next_features()["draft"] == SOURCE[1]
    assert c.next_features()["draft"] == SOURCE[3]


def test_empty_source_drafts_the_end():
    al = make_aligner(toy_spec(), [], ids("add"))
    assert al.next_features() == {"draft": ID["<end>"], "draft_next": ID["<end>"], "source": ID["<end>"]}


def test_bad_spec_is_a_clear_error():
    with pytest.raises(AlignerSpecError, match="kind"):
        make_aligner({"kind": "nope"}, SOURCE, [])
    spec = toy_spec()
    del spec["word_ids"]
    with pytest.raises(AlignerSpecError, match="incomplete"):
        make_aligner(spec, SOURCE, [])


SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "models" / "tessera-edit-mini"


def _shipped():
    from tokenizers import Tokenizer

    from engine.model.prompts import build_edit_prompt

    meta = json.loads((SHIPPED / "tessera.json").read_text())
    tok = Tokenizer.from_file(str(SHIPPED / "tokenizer.json"))
    return meta, tok, build_edit_prompt


@pytest.mark.parametrize("instruction, source, expected", [
    ("rename variable items to rows",
     "def count(items):\n    n = len(items)\n    return n + items.items",
     "def count(rows):\n    n = len(rows)\n    return n + rows.items"),
    ("remove print statements",
     "def f(a):\n    print(a)\n    b = a * 2\n    print('b', b)\n    return b",
     "def f(a):\n    b = a * 2\n    return b"),
])
def test_shipped_spec_predicts_mechanical_edits_exactly(instruction, source, expected):
    meta, tok, build = _shipped()
    prompt = build(tok, meta["special_tokens"], instruction, source)
    al = make_aligner(meta["aligner"], prompt.source_ids, prompt.instruction_ids)
    assert tok.decode(al.predicted) == expected


def test_shipped_spec_docstring_draft_names_the_signature():
    meta, tok, build = _shipped()
    prompt = build(tok, meta["special_tokens"], "add a docstring", "def parse_header(self, line):\n    return line")
    al = make_aligner(meta["aligner"], prompt.source_ids, prompt.instruction_ids)
    assert tok.decode(al.predicted).startswith('def parse_header(self, line):\n    """Parse header given line."""\n    return')


@pytest.mark.parametrize("instruction, source, expected", [
    ("rename variable items to rows",  # comments are left alone, like plain strings
     "def count(items):\n    # items: the items to count\n    n = len(items)  # how many items\n    return n",
     "def count(rows):\n    # items: the items to count\n    n = len(rows)  # how many items\n    return n"),
    ("remove print statements",  # a print over several lines goes whole
     'def f(a):\n    print("a is",\n          a)\n    return a',
     "def f(a):\n    return a"),
    ("add a docstring",  # a signature over several lines: the docstring follows the header
     "@cache\ndef parse_header(self,\n                 line,\n                 strict):\n\n    return line",
     '@cache\ndef parse_header(self,\n                 line,\n                 strict):\n    """Parse header given line and strict."""\n\n    return line'),
])
def test_shipped_spec_drafts_code_as_written(instruction, source, expected):
    meta, tok, build = _shipped()
    prompt = build(tok, meta["special_tokens"], instruction, source)
    al = make_aligner(meta["aligner"], prompt.source_ids, prompt.instruction_ids)
    assert tok.decode(al.predicted) == expected
