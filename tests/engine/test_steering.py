"""Steering (engine/decode/loop.py ``_Run.steer``): where a skill's rule wrote the whole predicted
output, its draft token is taken where the bundled model gives it at least a tenth of its own
choice's probability, and the output may not end before it ends as the source does. Real code
dense with braces and escapes (numpy's f2py C templates) is where the model left the draft."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from engine.backends.edit_stream import stream_edit
from engine.decode.drafts import ending_of
from engine.decode.loop import DRAFT_TRUST, MAX_REFUSED_ENDS, _Run, prefill
from engine.decode.sampling import SamplingParams
from engine.decode.session import Document, Engine
from engine.model.modelspec import MODELS_DIR
from engine.skills import predicted_text

TEMPLATES = [
    ("def setup(cadd, vars, name):\n"
     "    for n in vars:\n"
     "        cadd('\\t{\\\"%s\\\",%s,{{%s}},%s, %s},'\n"
     "             % (n, dm['rank'], dms, at, elsize))\n"),
    ("def init(cadd, F_FUNC, lower_name, name, inames1):\n"
     "    cadd('extern void %s(f2pyinit%s,F2PYINIT%s)(void(*)(%s));'\n"
     "         % (F_FUNC, lower_name, name.upper(),\n"
     "            ','.join(['char*'] * len(inames1))))\n"),
    ("def show(ret, a):\n"
     "    ret['varshowvalue'] = '#name#:slen(%s)=%%d %s=\\\\\"%%s\\\\\"' % (a, a)\n"),
]


@pytest.fixture(scope="module")
def engine():
    e = Engine(MODELS_DIR / "tessera-edit-mini", threads=1)
    yield e
    e.close()


def edit(engine, code, speculate=True, temperature=0.0, seed=None, instruction="convert to f-strings"):
    async def go():
        engine.open("st", Document(code))
        job = engine.make_job("st", f"st-{speculate}-{temperature}-{hash(code)}", instruction, (0, len(code)),
                              None, SamplingParams(temperature, 1.0, seed), speculate=speculate)
        return [ev async for ev in stream_edit(engine, job)][-1]
    return asyncio.run(go())


def test_the_ending_is_what_source_and_prediction_share_after_the_last_change_on_the_last_line():
    assert ending_of("    cadd('%s' % (a,\n         b))\n", "    cadd(f'{a}{b}')\n") == ")"
    assert ending_of("x = '%s' % a\n", "x = f'{a}'\n") == ""  # the change runs to the end
    assert ending_of("def f(a):\n    return a\n", "def f(b):\n    return b\n") == ""
    assert ending_of("def f(a):\n    x = a\n    return 1\n", "def f(b):\n    x = b\n    return 1\n") == "    return 1"
    assert ending_of("def f():\n", "def f():\n    \"\"\"Do f.\"\"\"\n") == ""  # nothing shared but the newline


@pytest.mark.parametrize("code", TEMPLATES)
def test_brace_dense_templates_convert_as_the_rule_writes_them(engine, code):
    done = edit(engine, code)
    assert done.reason == "eos" and done.stats.warning is None
    assert done.text == predicted_text("fstring", code)
    assert done.stats.steered_tokens >= 1  # the model alone leaves the draft here


@pytest.mark.parametrize("code", TEMPLATES)
@pytest.mark.parametrize("temperature, seed", [(0.0, None), (0.7, 3)])
def test_plain_and_speculative_decoding_steer_alike(engine, code, temperature, seed):
    plain = edit(engine, code, speculate=False, temperature=temperature, seed=seed)
    fast = edit(engine, code, speculate=True, temperature=temperature, seed=seed)
    assert fast.text == plain.text and fast.reason == plain.reason
    assert fast.stats.steered_tokens == plain.stats.steered_tokens


def test_a_rule_without_a_text_prediction_is_not_steered(engine):
    done = edit(engine, "def f(x):\n    return x + 1\n", instruction="add type hints")  # out of scope
    assert done.stats.steered_tokens == 0


def a_run(engine, code: str, instruction: str) -> _Run:
    """A run of a real job, prefilled: its drafts and its ending are the real ones."""
    engine.open("sr", Document(code))
    job = engine.make_job("sr", f"sr-{hash(code)}-{instruction}", instruction, (0, len(code)), None,
                          SamplingParams(0.0, 1.0, None))
    engine.unregister(job)
    w = next(w for w in job.windows if not w.pass_on) if job.windows else job
    run = _Run(engine.decoder, engine.spec, w, lambda ev: None, lambda: None)
    _, run.drafts, _, _ = prefill(engine.decoder, engine.spec, w)
    return run


def test_the_draft_is_taken_within_a_tenth_of_the_models_choice_and_not_below(engine):
    run = a_run(engine, "def f(a):\n    x = '%s' % a\n", "use f-strings")
    assert run.drafts.trusted
    vocab = engine.spec.config.vocab_size
    model, draft = 7, 9  # two ordinary tokens
    z = np.full(vocab, -20.0, np.float32)
    z[model] = 0.0
    z[draft] = -DRAFT_TRUST + 0.05  # just over a tenth of the choice's probability
    assert run.steer(model, draft, lambda: z) == draft
    z[draft] = -DRAFT_TRUST - 0.05  # just under
    assert run.steer(model, draft, lambda: z) == model
    assert run.steer(model, model, lambda: pytest.fail("logits read where choice and draft agree")) == model
    assert run.stats.steered_tokens == 1


def test_an_early_end_is_refused_until_the_output_ends_as_the_source_a_few_times_at_most(engine):
    run = a_run(engine, "def f(a):\n    log('%s' % (a,))\n", "use f-strings")
    assert run.drafts.ending == ")"
    eos = min(engine.spec.eos_ids)
    z = np.zeros(engine.spec.config.vocab_size, np.float32)
    z[eos], z[11] = 5.0, 1.0
    run.job.model_text = "    log(f'{a}'"  # the closing bracket is still to come
    for _ in range(MAX_REFUSED_ENDS):
        assert run.steer(eos, None, lambda: z) == 11
    assert run.steer(eos, None, lambda: z) == eos  # the model insists: let through
    run.refused_ends = 0
    run.job.model_text = "    log(f'{a}')\n"
    assert run.steer(eos, None, lambda: z) == eos


def test_a_model_without_the_rules_prediction_decodes_untouched(engine):
    run = a_run(engine, "def f(x):\n    return x\n", "explain this")
    assert not run.drafts.trusted and run.drafts.ending == ""
    assert run.steer(3, 4, lambda: pytest.fail("no logits are read")) == 3
