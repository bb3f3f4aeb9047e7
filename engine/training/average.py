"""Step ``average``: the weighted mean of two exported models' weights (a "model soup").

Two fine-tunes of one model, or a fine-tune and the model it started from, share every weight's
name and shape; their mean often keeps what each learned and forgets less than either alone
(Wortsman et al., 2022, "Model soups"). Both folders must hold the same architecture and
tokenizer; the result takes the other files (tokenizer, tessera.json, config) from the first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np


def run(first: Path, second: Path, out: Path, weight: float = 0.5) -> int:
    """Write `weight` × first + (1 − weight) × second to `out`; returns how many tensors were averaged."""
    import onnx
    from onnx import numpy_helper

    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be within 0..1, not {weight}")
    if (first / "tokenizer.json").read_bytes() != (second / "tokenizer.json").read_bytes():
        raise ValueError("the two models have different tokenizers: their weights cannot be averaged")
    a = onnx.load(str(first / "model.onnx"))
    b = {t.name: t for t in onnx.load(str(second / "model.onnx")).graph.initializer}
    averaged = 0
    for tensor in a.graph.initializer:
        x = numpy_helper.to_array(tensor)
        other = b.get(tensor.name)
        if other is None:
            raise ValueError(f"{second} has no weight named {tensor.name!r}")
        y = numpy_helper.to_array(other)
        if x.shape != y.shape:
            raise ValueError(f"{tensor.name}: shapes {x.shape} and {y.shape} differ")
        if x.dtype.kind != "f":
            continue  # shapes and indices, the same in both
        mean = weight * x.astype(np.float64) + (1.0 - weight) * y.astype(np.float64)
        tensor.CopyFrom(numpy_helper.from_array(mean.astype(x.dtype), tensor.name))
        averaged += 1
    out.mkdir(parents=True, exist_ok=True)
    for f in first.iterdir():
        if f.is_file() and f.name not in ("model.onnx", "MODEL_CARD.md"):
            shutil.copy2(f, out / f.name)
    onnx.save(a, str(out / "model.onnx"))
    return averaged
