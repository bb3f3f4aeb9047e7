"""Golden outputs of the skills on functions as written: the draft each instruction gives (through
the bundled model's own tokenizer and aligner spec) and the training pairs each kind builds.

The bundled model was trained on pairs and drafts made by this code, and the engine feeds it the
drafts at run time: a change here changes what the model sees, so it must be deliberate. After
such a change, regenerate the file with ``python tests/engine/test_skills_golden.py --write`` and
read the diff: every changed draft is a change in what the model is offered.
"""

from __future__ import annotations

import ast
import json
import random
import sys
from pathlib import Path

from tokenizers import Tokenizer

from engine.skills import BUILDERS, KINDS, predicted_output
from engine.skills.tokens import vocabulary_from_spec
from engine.training import written

GOLDEN = Path(__file__).parent / "golden" / "skills.json"
MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "tessera-edit-mini"

SAMPLES = [
    '''def mean(values):
    total = 0
    for v in values:  # accumulate
        total += v
    print("total is", total)
    return total / len(values)
''',
    '''@staticmethod
def parse_header(self, line, strict=False, *args, **kwargs):
    name, _, value = line.partition(":")
    if strict and not value:
        raise ValueError("bad header: %r" % line)
    return name.strip(), value.strip()
''',
    '''def describe(user, count):
    """Old docstring."""
    msg = 'user {} has {} items'.format(user.name, count)
    pct = "%s: %.2f%% done (%d of %5d)" % (user, count / 7, count, 99)
    other = '{0}-{1}-{name!r:>8}'.format(count, user, name=user.name)
    print(msg)
    return msg + pct + other
''',
    '''async def fetch(self, url, *, timeout=10):
    print(f"fetching {url}")
    if timeout:
        print('timeout', timeout)
    result = await self.fetch(url=url, timeout=timeout)
    self.fetch = result
    return self.fetch(result, timeout=timeout)
''',
    '''def loadConfig(path,
               encoding="utf-8"):
    with open(path, encoding=encoding) as f:
        text = f.read()
    # path is used in the message below
    return {"path": path, "text": text, "size": "%d bytes" % len(text)}
''',
    '''def is_valid(value):
    if value is None:
        print(value)
    return value and 'value' in str(value) and "%s" % value.strip()
''',
    '''def render(items):
    out = []
    for i, item in enumerate(items):
        out.append("{:>4} {}".format(i, item))
        out.append('%-10s|' % item)
    return "\\n".join(out)
''',
    '''def make_key(a, b):
    key = (a, b)
    print("key", key,
          "made")
    return key
''',
]
INSTRUCTIONS = ["rename total to acc", "rename variable value to v", "rename line to text",
                "rename function fetch to get_url", "rename path to filename", "rename key to pair",
                "add a docstring", "remove print statements", "convert to f-strings", "use f-strings",
                "add type hints"]


def outputs() -> dict:
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    vocab = vocabulary_from_spec(json.loads((MODEL / "tessera.json").read_text())["aligner"])
    drafts: dict = {}
    pairs: dict = {}
    for i, code in enumerate(SAMPLES):
        src = tok.encode(code, add_special_tokens=False).ids
        for s in INSTRUCTIONS:
            pred, _ = predicted_output(vocab, src, tok.encode(s, add_special_tokens=False).ids)
            drafts.setdefault(str(i), {})[s] = tok.decode(pred)
        normalised = None if code.startswith("@") else ast.unparse(ast.parse(code).body[0])
        for kind in KINDS:
            got = written.build(kind, code, random.Random(i), ["value", "item", "result"])
            pairs.setdefault(str(i), {})[kind] = [{"instruction": a, "source": b, "target": c} for a, b, c, _ in got]
            if normalised:
                p = BUILDERS[kind](normalised, random.Random(i), ["value", "item", "result"])
                pairs[str(i)][kind + " (normalised)"] = (None if p is None else
                                                         {"instruction": p.instruction, "source": p.source,
                                                          "target": p.target})
    return {"drafts": drafts, "pairs": pairs}


def test_drafts_and_pairs_are_the_ones_the_bundled_model_was_trained_on():
    golden = json.loads(GOLDEN.read_text())
    got = outputs()
    for part in ("drafts", "pairs"):
        for sample, by_instruction in golden[part].items():
            for key, expected in by_instruction.items():
                assert got[part][sample][key] == expected, f"{part}: sample {sample}, {key!r}"
    assert got == golden


def test_golden_file_covers_every_kind_with_real_edits():
    golden = json.loads(GOLDEN.read_text())
    made = {kind for sample in golden["pairs"].values() for kind, got in sample.items() if got}
    assert {k for k in KINDS} <= made
    changed = [s for sample in golden["drafts"].values() for s, d in sample.items() if d != sample["add type hints"]]
    assert len(changed) >= 30  # every kind changes the draft of several samples


if __name__ == "__main__" and "--write" in sys.argv:
    GOLDEN.write_text(json.dumps(outputs(), indent=1, sort_keys=True) + "\n")
