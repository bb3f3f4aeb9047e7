"""The fused-graph decoder gives the plain runner's logits in every way the engine calls it."""

import json
import shutil

import numpy as np
import onnx
import pytest

from engine.model.fastgraph import quantize_blockwise
from engine.model.fastrunner import FastDecoder
from engine.model.graph import DecoderConfig, build_decoder_onnx, random_weights
from engine.model.modelspec import load_spec
from engine.model.runner import Cancelled, ContextOverflow, OnnxDecoder

EXTRAS = ["draft", "source"]


def _random_folder(root, tiny_model_dir, extras, head_dim=16):
    cfg = DecoderConfig(vocab_size=264, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                        num_attention_heads=6, num_key_value_heads=2, head_dim=head_dim, max_position_embeddings=512)
    weights = random_weights(cfg, {name: 40 + 10 * i for i, name in enumerate(extras)}, seed=3)
    onnx.save(build_decoder_onnx(weights, cfg, extras), str(root / "model.onnx"))
    cfg.to_json(root / "config.json")
    shutil.copy(tiny_model_dir / "tokenizer.json", root / "tokenizer.json")
    meta = json.loads((tiny_model_dir / "tessera.json").read_text())
    (root / "tessera.json").write_text(json.dumps({**meta, "extra_inputs": extras, "name": "random-extra"}))
    return root


@pytest.fixture(scope="module", params=["tiny-random", "with-extras"])
def pair(request, tiny_model_dir, tmp_path_factory):
    if request.param == "tiny-random":
        folder = tiny_model_dir
    else:
        folder = _random_folder(tmp_path_factory.mktemp("extra"), tiny_model_dir, EXTRAS)
    spec = load_spec(folder)
    return OnnxDecoder(spec), FastDecoder(spec, weights="float32")  # the exact format


def _inputs(spec, n, seed=0):
    rng = np.random.default_rng(seed)
    ids = [int(t) for t in rng.integers(0, 256, n)]
    extra = {name: rng.integers(0, 40, n) for name in spec.extra_inputs} or None
    return ids, extra


def _part(extra, a, b):
    return None if extra is None else {k: v[a:b] for k, v in extra.items()}


def test_prefill_step_and_k_token_forward_match_the_plain_runner(pair):
    plain, fast = pair
    ids, extra = _inputs(fast.spec, 48)
    plain.reset()
    full = plain.forward(ids, extra)
    fast.reset()
    got = [fast.forward(ids[:20], _part(extra, 0, 20))]
    got += [fast.forward(ids[i:i + 1], _part(extra, i, i + 1)) for i in range(20, 30)]
    got.append(fast.forward(ids[30:35], _part(extra, 30, 35)))  # a k-token verification
    got.append(fast.forward(ids[35:48], _part(extra, 35, 48)))
    np.testing.assert_allclose(np.concatenate(got), full, atol=2e-4, rtol=1e-4)
    assert fast.tokens == ids and fast.length == 48


def test_rewind_then_continue_matches_the_plain_runner(pair):
    plain, fast = pair
    ids, extra = _inputs(fast.spec, 40, seed=1)
    plain.reset()
    full = plain.forward(ids, extra)
    fast.reset()
    fast.forward(ids[:30], _part(extra, 0, 30))
    fast.rewind(17)  # e.g. drafts rejected: the buffer keeps stale entries past the length
    assert fast.length == 17 and fast.tokens == ids[:17]
    other, other_extra = _inputs(fast.spec, 6, seed=9)
    fast.forward(other, other_extra)  # a different continuation overwrites them...
    fast.rewind(17)
    np.testing.assert_allclose(fast.forward(ids[17:], _part(extra, 17, 40)), full[17:], atol=2e-4, rtol=1e-4)
    assert fast.common_prefix(ids[:25] + [1, 2], _part(extra, 0, 27)) == 25
    assert fast.common_prefix(ids[:25] + [1, 2], _part(extra, 0, 27)) == plain.common_prefix(
        ids[:25] + [1, 2], _part(extra, 0, 27))
    if extra is not None:  # same tokens, different draft inputs: not the same cache entries
        changed = {k: v.copy() for k, v in extra.items()}
        changed[EXTRAS[0]][10] += 1
        assert fast.common_prefix(ids, changed) == 10


def test_chunked_prefill_returns_the_last_logits(pair):
    plain, fast = pair
    ids, extra = _inputs(fast.spec, 70, seed=2)
    plain.reset()
    want = plain.forward(ids, extra)[-1]
    fast.reset()
    got = fast.prefill(ids, extra, chunk=16)
    np.testing.assert_allclose(got, want, atol=2e-4, rtol=1e-4)
    assert fast.length == 70


def test_more_call_shapes_than_kept_bindings_stay_exact(pair):
    from engine.model.fastrunner import MAX_SLOTS

    plain, fast = pair
    sizes = list(range(1, MAX_SLOTS + 4))
    ids, extra = _inputs(fast.spec, max(sizes), seed=8)
    plain.reset()
    full = plain.forward(ids, extra)
    for _ in range(2):  # the second round meets shapes whose bindings were dropped and rebuilt
        for n in sizes:
            fast.reset()
            np.testing.assert_allclose(fast.forward(ids[:n], _part(extra, 0, n)), full[:n], atol=3e-4, rtol=1e-4)
    assert len(fast._slots) <= MAX_SLOTS


def test_returned_logits_are_not_overwritten_by_the_next_call(pair):
    _, fast = pair
    ids, extra = _inputs(fast.spec, 3, seed=4)
    fast.reset()
    first = fast.forward(ids[:1], _part(extra, 0, 1))
    kept = first.copy()
    fast.forward(ids[1:2], _part(extra, 1, 2))
    np.testing.assert_array_equal(first, kept)


def test_context_overflow_and_missing_extra_are_clear_errors(pair):
    _, fast = pair
    fast.reset()
    with pytest.raises(ContextOverflow, match="context"):
        fast.forward([1] * (fast.context_length + 1))
    assert fast.length == 0
    for bad in ([fast.spec.config.vocab_size], [3, -1]):  # ids the stacked table must not read
        with pytest.raises(ValueError, match="vocabulary|token ids"):
            fast.forward(bad)
    if fast.spec.extra_inputs:
        with pytest.raises(ValueError, match="extra input"):
            fast.forward([1, 2])
        for n in (1, 3):
            wrong = {name: np.full(n, 10_000) for name in fast.spec.extra_inputs}
            with pytest.raises(ValueError, match="outside its table"):
                fast.forward([1] * n, wrong)
    assert fast.length == 0


def test_prefill_can_be_cancelled_between_chunks(pair):
    _, fast = pair
    ids, extra = _inputs(fast.spec, 50, seed=5)
    fast.reset()
    fast.cancel.set()
    try:
        with pytest.raises(Cancelled):
            fast.prefill(ids, extra, chunk=8)
    finally:
        fast.cancel.clear()
    assert fast.length == 0


def test_supports_only_graphs_with_the_named_weights(tiny_model_dir, tmp_path):
    assert FastDecoder.supports(load_spec(tiny_model_dir))
    foreign = tmp_path / "foreign"
    shutil.copytree(tiny_model_dir, foreign)
    model = onnx.load(str(foreign / "model.onnx"))
    for init in model.graph.initializer:  # an export that names its weights differently
        if init.name.startswith("layers.0."):
            init.name = "model." + init.name
            for node in model.graph.node:
                node.input[:] = ["model." + i if i == init.name[6:] else i for i in node.input]
    onnx.save(model, str(foreign / "model.onnx"))
    spec = load_spec(foreign)
    assert not FastDecoder.supports(spec)
    with pytest.raises(ValueError, match="not a Tessera-built graph"):
        FastDecoder(spec)


def test_heads_the_fused_attention_cannot_run_are_not_supported(tiny_model_dir, tmp_path):
    from engine.model.fastrunner import make_decoder

    spec = load_spec(_random_folder(tmp_path, tiny_model_dir, [], head_dim=8))  # kernel needs % 16
    assert not FastDecoder.supports(spec)
    with pytest.raises(ValueError, match="head_dim"):
        FastDecoder(spec)
    assert isinstance(make_decoder(spec), OnnxDecoder)  # the engine falls back to the plain runner
    assert isinstance(make_decoder(load_spec(tiny_model_dir)), FastDecoder)


@pytest.mark.parametrize("weights", ["int8", "mixed8"])
def test_quantized_weights_stay_close_and_keep_greedy_choices(tiny_model_dir, weights):
    spec = load_spec(tiny_model_dir)
    ids, _ = _inputs(spec, 40, seed=6)
    plain = OnnxDecoder(spec)
    want = np.concatenate([plain.forward(ids[:30])] + [plain.forward([t]) for t in ids[30:]])
    fast = FastDecoder(spec, weights=weights)
    got = np.concatenate([fast.forward(ids[:30])] + [fast.forward([t]) for t in ids[30:]])
    assert np.abs(got - want).max() < 0.05 * np.abs(want).max()
    assert (got.argmax(-1) == want.argmax(-1)).mean() >= 0.9
    if weights == "mixed8":  # multi-token forwards run the float32 graph there: exact
        np.testing.assert_allclose(got[:30], want[:30], atol=2e-4, rtol=1e-4)
    fast.reset()  # prefill runs float32 in every format: the first token's logits are exact
    np.testing.assert_allclose(fast.prefill(ids, chunk=16), want[-1], atol=2e-4, rtol=1e-4)


def test_unknown_weight_format_is_a_clear_error(tiny_model_dir):
    with pytest.raises(ValueError, match="weight format"):
        FastDecoder(load_spec(tiny_model_dir), weights="fp8")


def test_blockwise_quantization_round_trips_within_one_step():
    w = np.random.default_rng(7).standard_normal((40, 5)).astype(np.float32)
    q, scales, zp = quantize_blockwise(w, 8, 16)
    assert q.shape == (5, 3, 16) and scales.shape == (5, 3) and zp.shape == (5, 3)
    deq = (q.astype(np.float32) - zp[..., None]) * scales[..., None]
    back = deq.reshape(5, 48)[:, :40].T
    assert np.abs(back - w).max() <= scales.max() * 0.51



@pytest.mark.parametrize("weights", ["float32", "int8"])
def test_greedy_choices_made_in_the_graph_equal_argmax_of_logits_plus_ban(tiny_model_dir, weights):
    spec = load_spec(tiny_model_dir)
    ids, _ = _inputs(spec, 30, seed=9)
    ban = spec.ban_bias
    assert np.isinf(ban).any()  # the tiny model bans its prompt markers: the bias is exercised
    fast = FastDecoder(spec, weights=weights)
    fast.reset()
    rows = np.concatenate([fast.forward(ids[:20])] + [fast.forward([t]) for t in ids[20:]])
    fast.reset()
    got = fast.forward_greedy(ids[:20]) + [fast.forward_greedy([t])[0] for t in ids[20:]]
    assert got == [int(t) for t in np.argmax(rows + ban, -1)]
    assert fast.length == len(ids) and fast.tokens == ids


def test_plain_runner_greedy_choices_equal_the_fused_graphs(pair):
    plain, fast = pair
    ids, extra = _inputs(fast.spec, 24, seed=4)
    plain.reset()
    fast.reset()
    assert plain.forward_greedy(ids, extra) == fast.forward_greedy(ids, extra)


def test_one_decoder_switches_weight_formats_on_one_kv_cache(tiny_model_dir):
    spec = load_spec(tiny_model_dir)
    ids, _ = _inputs(spec, 30, seed=5)
    both = FastDecoder(spec, weights="float32", also=("int8",))
    assert both.formats == ["float32", "int8", "mixed8"]  # mixed8 needs no session beyond those two
    only8 = FastDecoder(spec, weights="int8")
    for dec in (both, only8):
        dec.prefill(ids[:20], chunk=8)  # prefill runs float32 in every format
    both.use("int8")
    got = [both.forward([t]) for t in ids[20:]]
    want = [only8.forward([t]) for t in ids[20:]]
    np.testing.assert_array_equal(np.concatenate(got), np.concatenate(want))  # same sessions, same cache
    both.use("float32")
    both.rewind(20)
    plain = OnnxDecoder(spec)
    plain.forward(ids[:20])
    np.testing.assert_allclose(both.forward(ids[20:]), plain.forward(ids[20:]), atol=2e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="not loaded"):
        both.use("int4")


@pytest.mark.parametrize("fast", [True, False])
def test_a_cancel_from_another_thread_aborts_a_running_forward(tiny_model_dir, fast):
    import threading
    import time

    spec = load_spec(tiny_model_dir)
    dec = FastDecoder(spec) if fast else OnnxDecoder(spec)
    ids = [int(t) for t in np.random.default_rng(2).integers(0, 256, 2000)]
    dec.forward(ids[:8])
    t0 = time.perf_counter()
    dec.forward(ids[8:1008])  # how long a 1,000-token forward takes here
    whole = time.perf_counter() - t0
    dec.rewind(8)
    timer = threading.Timer(whole / 20, dec.cancel.set)
    timer.start()
    with pytest.raises(Cancelled):
        dec.forward(ids[8:1008])
    timer.join()
    assert dec.tokens == ids[:8]  # the aborted call left the cache as it was
    dec.cancel.clear()  # the next call runs normally
    np.testing.assert_allclose(dec.forward(ids[8:12]), OnnxDecoder(spec).forward(ids[:12])[8:], atol=2e-4, rtol=1e-4)


def test_both_runners_are_decoders_the_loop_can_drive(pair):
    from engine.model.decoder import Decoder

    for dec in pair:
        assert isinstance(dec, Decoder)


def test_each_call_kind_runs_on_its_weight_format(tiny_model_dir):
    from engine.model.fastrunner import WEIGHT_FORMATS, CallKind

    spec = load_spec(tiny_model_dir)
    dec = FastDecoder(spec, weights="mixed8")  # float32 prefill and verify, int8 single steps
    assert [WEIGHT_FORMATS["mixed8"][kind] for kind in (CallKind.PREFILL, CallKind.VERIFY, CallKind.STEP)] == [0, 0, 8]
    plain = OnnxDecoder(spec)
    ids = [5, 9, 12, 7, 3, 14]
    np.testing.assert_allclose(dec.prefill(ids), plain.prefill(ids), rtol=1e-4, atol=1e-4)  # float32: exact
    np.testing.assert_allclose(dec.forward([4, 8]), plain.forward([4, 8]), rtol=1e-4, atol=1e-4)  # verify: float32
    step, exact = dec.forward([6])[0], plain.forward([6])[0]
    assert np.abs(step - exact).max() > 1e-3  # the step ran on int8 weights (float32 differs by ~1e-6)
    np.testing.assert_allclose(step, exact, atol=0.5)  # ... and still predicts nearly the same
