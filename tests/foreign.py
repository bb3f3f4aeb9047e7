"""The committed random-weight exports of real chat-model architectures (engine/foreign), for tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from engine.model.modelspec import MODELS_DIR

FOREIGN = MODELS_DIR / "foreign"
FAMILIES = ("qwen2", "llama3", "phi3", "gemma2")
LAYOUTS = ("optimum", "genai-fp32", "genai-int4")
FOLDERS = [FOREIGN / f"{f}-{layout}" for f in FAMILIES for layout in LAYOUTS]
# What each family's template puts right before the model's answer.
GENERATION_PROMPT = {"qwen2": "<|im_start|>assistant\n", "llama3": "<|start_header_id|>assistant<|end_header_id|>\n\n",
                     "phi3": "<|assistant|>\n", "gemma2": "<start_of_turn>model\n"}


def family(folder: Path) -> str:
    return folder.name.split("-")[0]


def declared_eos(folder: Path) -> set[int]:
    """Every EOS id the folder's files declare, read here independently of the engine."""
    from tokenizers import Tokenizer

    ids: set[int] = set()

    def add(value):
        if isinstance(value, list):
            ids.update(int(v) for v in value)
        elif isinstance(value, int):
            ids.add(value)

    for name in ("config.json", "generation_config.json"):
        if (folder / name).is_file():
            add(json.loads((folder / name).read_text()).get("eos_token_id"))
    if (folder / "genai_config.json").is_file():
        add(json.loads((folder / "genai_config.json").read_text())["model"].get("eos_token_id"))
    eos = json.loads((folder / "tokenizer_config.json").read_text()).get("eos_token")
    if eos:
        ids.add(Tokenizer.from_file(str(folder / "tokenizer.json")).token_to_id(eos))
    return ids


def with_logit_bias(folder: Path, token_id: int, dest: Path) -> Path:
    """A copy of `folder` whose graph adds a large bias to one token's logit: it says that token first."""
    shutil.copytree(folder, dest)
    path = dest / "model.onnx"
    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    producer = next(n for n in graph.node if "logits" in n.output)
    producer.output[list(producer.output).index("logits")] = "logits_unbiased"
    vocab = graph.output[[o.name for o in graph.output].index("logits")].type.tensor_type.shape.dim[2].dim_value
    bias = np.zeros(vocab, np.float32)
    bias[token_id] = 1e4
    graph.initializer.append(numpy_helper.from_array(bias, "test_logit_bias"))
    graph.node.append(helper.make_node("Add", ["logits_unbiased", "test_logit_bias"], ["logits"]))
    onnx.save(model, str(path))
    return dest
