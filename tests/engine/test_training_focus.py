"""The focused fine-tune's steps: the subset of pairs, and pairs encoded with the drafts the engine shows."""

from __future__ import annotations

import json

from engine.model.align import aligner_for
from engine.model.modelspec import MODELS_DIR
from engine.model.prompts import build_edit_prompt
from engine.model.tokenizer import load_tokenizer
from engine.skills import EditPair, predicted_text
from engine.skills.tokens import vocabulary_from_spec
from engine.training.__main__ import main
from engine.training.encode import encode_pair
from engine.training.tokenizer import SPECIAL

MODEL = MODELS_DIR / "tessera-edit-mini"


def pair(kind: str, i: int) -> dict:
    return {"kind": kind, "instruction": "use f-strings", "source": f"def f{i}(a):\n    return a\n",
            "target": f"def f{i}(a):\n    return a\n"}


def test_subset_keeps_every_pair_of_the_focus_and_some_of_each_other_kind(tmp_path):
    src, out = tmp_path / "all", tmp_path / "focus"
    src.mkdir()
    rows = [pair("fstring", i) for i in range(7)] + [pair("rename_variable", i) for i in range(9)] + [
        pair("add_docstring", i) for i in range(2)]
    (src / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for name in ("tokenizer.json", "tessera.json"):
        (src / name).write_text((MODEL / name).read_text())
    assert main(["subset", "--from-cache", str(src), "--cache", str(out), "--focus", "fstring", "--others", "3"]) == 0
    kinds = [json.loads(line)["kind"] for line in (out / "train.jsonl").read_text().splitlines()]
    assert sorted(kinds) == sorted(["fstring"] * 7 + ["rename_variable"] * 3 + ["add_docstring"] * 2)
    assert (out / "tokenizer.json").read_text() == (MODEL / "tokenizer.json").read_text()


def test_a_pair_is_encoded_with_the_draft_the_engine_shows():
    tok = load_tokenizer(MODEL / "tokenizer.json")
    vocab = vocabulary_from_spec(json.loads((MODEL / "tessera.json").read_text())["aligner"])
    source = "def f(a, b):\n    return ('%s '\n            'and %s' % (a, b))\n"
    p = EditPair("fstring", "use f-strings", source, "def f(a, b):\n    return (f'{a} '\n            f'and {b}')\n")
    inputs, labels, feats = encode_pair(tok, vocab, p, None, 512)
    prompt = build_edit_prompt(tok, SPECIAL, p.instruction, p.source)
    predicted = tok.encode(predicted_text("fstring", source), add_special_tokens=False).ids
    want = aligner_for(vocab, prompt.source_ids, prompt.instruction_ids, predicted)
    assert want.predicted == predicted
    assert feats["draft"][len(prompt.ids) - 1] == want.next_features()["draft"]
    target = tok.encode(p.target, add_special_tokens=False).ids
    drafts = [feats["draft"][len(prompt.ids) - 1 + i] for i in range(len(target))]
    assert drafts == predicted[:len(target)]  # the draft is the target all along: the rule's edit in its text
