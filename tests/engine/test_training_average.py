"""Averaging two exported models' weights (engine/training/average.py)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from engine.training.average import run


def folder(tmp_path, name: str, weight: np.ndarray, tokenizer: str = '{"v": 1}'):
    d = tmp_path / name
    d.mkdir()
    w = numpy_helper.from_array(weight.astype(np.float32), "w")
    shape = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y0"]), helper.make_node("Reshape", ["y0", "shape"], ["y"])],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[w, shape])
    onnx.save(helper.make_model(graph), str(d / "model.onnx"))
    (d / "tokenizer.json").write_text(tokenizer)
    (d / "tessera.json").write_text(f'{{"name": "{name}"}}')
    return d


def weights(d) -> dict:
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(d / "model.onnx")).graph.initializer}


def test_the_mean_of_the_float_weights_and_the_first_models_other_files(tmp_path):
    a = folder(tmp_path, "a", np.array([[1.0, 2.0], [3.0, 4.0]]))
    b = folder(tmp_path, "b", np.array([[3.0, 2.0], [1.0, 0.0]]))
    assert run(a, b, tmp_path / "out", weight=0.25) == 1
    got = weights(tmp_path / "out")
    np.testing.assert_allclose(got["w"], [[2.5, 2.0], [1.5, 1.0]])
    assert got["shape"].tolist() == [1, -1]  # integer tensors are not averaged
    assert (tmp_path / "out" / "tessera.json").read_text() == '{"name": "a"}'


def test_models_that_do_not_match_are_refused(tmp_path):
    a = folder(tmp_path, "a", np.ones((2, 2)))
    with pytest.raises(ValueError, match="different tokenizers"):
        run(a, folder(tmp_path, "b", np.ones((2, 2)), tokenizer='{"v": 2}'), tmp_path / "out")
    with pytest.raises(ValueError, match="shapes"):
        run(a, folder(tmp_path, "c", np.ones((2, 3))), tmp_path / "out")
    with pytest.raises(ValueError, match="within 0..1"):
        run(a, a, tmp_path / "out", weight=1.5)
