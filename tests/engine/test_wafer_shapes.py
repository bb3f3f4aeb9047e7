"""Model shapes: published presets, config.json loading, clear errors for bad configs."""

import json

import pytest

from engine.wafer.hfconfig import bundled_shape, load_config
from engine.wafer.presets import PRESETS, resolve_shape


@pytest.mark.parametrize(
    "name, billions",
    [("llama-3.1-8b", 8.03), ("llama-3.1-70b", 70.6), ("llama-3.1-405b", 405.9), ("qwen2-72b", 72.7)],
)
def test_presets_have_the_published_parameter_counts(name, billions):
    assert PRESETS[name].params / 1e9 == pytest.approx(billions, rel=0.01)


def test_llama_8b_weighs_16_gb_at_16_bits_and_half_at_8():
    shape = PRESETS["llama-3.1-8b"]
    assert shape.weight_bytes / 1e9 == pytest.approx(16.06, rel=0.01)
    assert shape.with_bits(8).weight_bytes == pytest.approx(shape.weight_bytes / 2)


def test_hugging_face_config_json_loads(tmp_path):
    config = {
        "num_hidden_layers": 28, "hidden_size": 3072, "num_attention_heads": 24, "num_key_value_heads": 8,
        "intermediate_size": 8192, "vocab_size": 128256, "max_position_embeddings": 131072,
        "tie_word_embeddings": True,
    }
    path = tmp_path / "llama-3.2-3b" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config))
    shape = resolve_shape(str(path))
    assert (shape.name, shape.layers, shape.kv_heads, shape.head_dim) == ("llama-3.2-3b", 28, 8, 128)
    assert shape.params / 1e9 == pytest.approx(3.2, rel=0.02)
    assert load_config(path.parent) == shape  # a model folder works too


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not a readable JSON"),
        ('{"hidden_size": 64}', "missing layers"),
        ('{"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 0, "vocab_size": 10, '
         '"max_position_embeddings": 8}', "heads"),
        ('["a list"]', "JSON object"),
    ],
)
def test_bad_configs_give_clear_errors(tmp_path, text, message):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_config(path)


def test_unknown_model_names_list_the_presets():
    with pytest.raises(ValueError, match="llama-3.1-8b"):
        resolve_shape("gpt-9")


def test_bundled_model_shape_is_small_and_named():
    shape = bundled_shape()
    assert shape.name == "tessera-edit-mini"
    assert shape.params < 50e6
    assert resolve_shape("tessera-edit-mini") == shape
