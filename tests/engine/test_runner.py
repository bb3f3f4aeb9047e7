import numpy as np
import pytest

from engine.model.runner import ContextOverflow, OnnxDecoder


@pytest.fixture(scope="module")
def decoder(tiny_model_dir):
    return OnnxDecoder(tiny_model_dir)


def test_kv_cache_decode_matches_full_recompute(decoder):
    ids = list(np.random.default_rng(0).integers(0, 256, 40))
    decoder.reset()
    full = decoder.forward(ids)
    decoder.reset()
    parts = [decoder.forward(ids[:10])] + [decoder.forward([t]) for t in ids[10:]]
    np.testing.assert_allclose(np.concatenate(parts), full, atol=1e-4)


def test_k_token_forward_returns_logits_for_every_position(decoder):
    ids = list(range(30, 60))
    decoder.reset()
    full = decoder.forward(ids)
    decoder.reset()
    decoder.forward(ids[:20])
    chunk = decoder.forward(ids[20:25])
    assert chunk.shape == (5, decoder.spec.config.vocab_size)
    np.testing.assert_allclose(chunk, full[20:25], atol=1e-4)


def test_rewind_then_recompute_gives_same_logits(decoder):
    ids = list(range(70, 100))
    decoder.reset()
    full = decoder.forward(ids)
    decoder.rewind(12)
    assert decoder.length == 12 and decoder.tokens == ids[:12]
    np.testing.assert_allclose(decoder.forward(ids[12:]), full[12:], atol=1e-4)
    assert decoder.common_prefix(ids[:15] + [1, 2]) == 15


def test_context_overflow_is_a_clear_error(decoder):
    decoder.reset()
    with pytest.raises(ContextOverflow, match="context"):
        decoder.forward([1] * (decoder.context_length + 1))
    assert decoder.length == 0


def test_prefill_can_be_cancelled_between_chunks(decoder):
    from engine.model.runner import Cancelled

    decoder.reset()
    decoder.cancel.set()
    try:
        with pytest.raises(Cancelled):
            decoder.prefill(list(range(1, 200)), chunk=16)
    finally:
        decoder.cancel.clear()
    assert decoder.length == 0


def test_broken_model_folder_is_refused_clearly(tmp_path, tiny_model_dir):
    from engine.model.modelspec import ModelFolderError, load_spec

    with pytest.raises(ModelFolderError, match="does not exist"):
        load_spec(tmp_path / "nope")
    (tmp_path / "model.onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelFolderError, match="config.json"):
        load_spec(tmp_path)
    (tmp_path / "config.json").write_text((tiny_model_dir / "config.json").read_text())
    (tmp_path / "tokenizer.json").write_text((tiny_model_dir / "tokenizer.json").read_text())
    with pytest.raises(ValueError, match="cannot load ONNX"):
        OnnxDecoder(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{broken")
    with pytest.raises(ModelFolderError, match="tokenizer"):
        load_spec(tmp_path)
