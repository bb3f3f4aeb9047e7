import asyncio

import pytest

from engine.decode.sampling import SamplingParams
from engine.backends.edit_stream import stream_edit
from engine.decode.session import Document, Engine
from engine.model.fastrunner import ENGINE_WEIGHTS, make_decoder
from engine.decode.speculative import AdaptiveK, PromptLookup


def test_lookup_follows_a_copy_and_reanchors_after_an_edit():
    src = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    look = PromptLookup([src])
    assert look.propose(3) == [1, 2, 3]
    out = []
    for tok in [1, 2, 3]:
        out.append(tok)
        look.observe(out)
    assert look.propose(2) == [4, 5]
    out += [42]  # the edit: a token not in the draft
    look.observe(out)
    assert look.propose(2) == []  # unaligned: nothing to propose
    out += [6]  # back in the draft, past the replaced 4, 5
    look.observe(out)
    assert look.propose(3) == [7, 8, 9]


def test_lookup_prefers_the_nearest_occurrence_ahead():
    src = [7, 1, 2, 9, 1, 2, 5]
    look = PromptLookup([src])
    out = [7, 1, 2, 9]
    for i in range(1, len(out) + 1):
        look.observe(out[:i])
    out += [3, 1, 2]  # "1 2" occurs at 1..2 (behind) and 4..5 (ahead)
    for i in range(5, len(out) + 1):
        look.observe(out[:i])
    assert look.propose(1) == [5]


def test_adaptive_k_grows_on_full_runs_and_shrinks_on_misses():
    k = AdaptiveK(k_min=2, k_max=16, k0=8)
    k.update(8, 8)
    assert k.k == 16
    k.update(16, 3)
    assert k.k == 4


@pytest.fixture(scope="module", params=["float32", "int8"])
def engine(request, tiny_model_dir):
    """An engine whose speculative and plain modes share one weight format: speculation must not
    change the output on the same weights (the engine's own default runs each mode in its fastest
    format; see test_each_decode_mode_runs_in_its_own_weight_format)."""
    eng = Engine(tiny_model_dir)
    eng.decoder = make_decoder(eng.spec, weights={"speculative": request.param, "plain": request.param})
    yield eng
    eng.close()


def run(engine, code, instruction, speculate, temperature=0.0, seed=None, max_tokens=150):
    async def go():
        engine.open("s", Document(code))
        rid = f"{speculate}-{temperature}-{seed}-{hash(code)}-{instruction}"
        job = engine.make_job("s", rid, instruction, None, max_tokens,
                              SamplingParams(temperature, 1.0, seed), speculate=speculate)
        events = [ev async for ev in stream_edit(engine, job)]
        return events[-1], [e for e in events if e.type == "token"]
    return asyncio.run(go())


CASES = [
    ("def f(x):\n    return x\n", "remove prints"),
    ("Y" * 90, "rename x to y"),
    ("dddYYYYYY^YY^^^^^^5YYYYYYYYY" * 3, "add a docstring"),
    ("%" * 40 + "\nVVVVVVVT=VVVVVVVVV", "convert to f-strings"),
    ("for i in range(10):\n    print(i)\n" * 3, "anything"),
]


@pytest.mark.parametrize("code, instruction", CASES)
@pytest.mark.parametrize("temperature, seed", [(0.0, None), (1.0, 11)])
def test_speculative_output_equals_plain_decoding(engine, code, instruction, temperature, seed):
    plain, _ = run(engine, code, instruction, False, temperature, seed)
    fast, tokens = run(engine, code, instruction, True, temperature, seed)
    assert fast.text == plain.text
    assert fast.reason == plain.reason
    assert fast.stats.draft_accepted_tokens <= fast.stats.draft_proposed_tokens
    assert sum(t.draft for t in tokens) == fast.stats.draft_accepted_tokens


def test_copyable_source_is_mostly_accepted(engine):
    # The random model greedily repeats "Y"; a source of Ys is a draft it agrees with.
    done, tokens = run(engine, "Y" * 90, "x", True, max_tokens=80)
    assert done.stats.draft_accepted_tokens >= 60
    assert done.stats.verify_passes < 30  # many tokens per forward pass


def test_each_decode_mode_runs_in_its_own_weight_format(tiny_model_dir):
    eng = Engine(tiny_model_dir)
    try:
        code = "def f(x):\n    return x\n"
        plain, _ = run(eng, code, "rename x to y", False, max_tokens=12)
        fast, _ = run(eng, code, "rename x to y", True, max_tokens=12)
        again, _ = run(eng, code, "rename x to y", False, max_tokens=12)
    finally:
        eng.close()
    assert plain.stats.weights == again.stats.weights == ENGINE_WEIGHTS["plain"] == "int8"
    assert fast.stats.weights == ENGINE_WEIGHTS["speculative"] == "float32"
    assert plain.text == again.text  # switching formats back and forth keeps the cache consistent


@pytest.mark.parametrize("speculate", [False, True])
def test_a_stop_during_a_forward_pass_shows_nothing_that_pass_computed(tiny_model_dir, speculate):
    from engine.decode.job import EditJob
    from engine.decode.loop import run_edit_job
    from engine.model.modelspec import load_spec

    spec = load_spec(tiny_model_dir)
    dec = make_decoder(spec)
    job = EditJob("r", "rename x to y", "def f(x):\n    y = x + 1\n    return x * y\n" * 3, max_tokens=200,
                  speculate=speculate)
    real, calls, shown_at_stop = dec.forward_greedy, [], []
    events = []

    def forward_greedy(ids, extra=None):  # the stop arrives while the third pass computes
        out = real(ids, extra)
        calls.append(len(ids))
        if len(calls) == 3:
            shown_at_stop.append(len(job.output_ids))
            job.stop.set()
        return out

    dec.forward_greedy = forward_greedy
    run_edit_job(dec, spec, job, events.append)
    done = events[-1]
    assert done.type == "done" and done.reason == "stop"
    tokens = [e for e in events if e.type == "token"]
    assert len(calls) == 3  # no pass started after the stop
    assert len(job.output_ids) == shown_at_stop[0] == sum(e.count for e in tokens) == done.stats.tokens_out
    # The cache keeps the shown output up to the last token, which was fed to the discarded pass.
    n = len(job.output_ids)
    assert n >= 2 and dec.tokens[-(n - 1):] == job.output_ids[:-1]
