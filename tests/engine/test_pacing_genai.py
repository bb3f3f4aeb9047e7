"""A paced stream on an onnxruntime-genai folder: the emulation reads the shape from genai_config.json."""

import json

import pytest

from engine.wafer.emulation import emulation
from engine.serve.pacing import own_shape
from tests.conftest import EngineProcess
from tests.engine.test_pacing import paced_run
from tests.foreign import FOREIGN

GENAI = FOREIGN / "llama3-genai-int4"  # genai_config.json, no config.json


@pytest.fixture(scope="module")
def genai_engine():
    assert not (GENAI / "config.json").exists()
    eng = EngineProcess(GENAI)
    yield eng
    eng.close()


def test_wse3_on_a_genai_folder_streams_paced_with_the_folders_own_shape(genai_engine):
    msgs = paced_run(genai_engine, "genai", "wse-3", None)
    done = msgs[-1]
    assert done["type"] == "done" and done["reason"] in ("length", "eos"), done
    stats = done["stats"]
    assert stats["profile"] == "wse-3" and stats["paced"] is True
    layout = next(m for m in msgs if m["type"] == "tiles" and "layout" in m)
    assert layout["emulation"]["model"] == GENAI.name
    decoder = json.loads((GENAI / "genai_config.json").read_text())["model"]["decoder"]
    assert layout["layout"]["layers"] == decoder["num_hidden_layers"]
    emu = emulation("wse-3", own_shape(GENAI), prompt_tokens=stats["prompt_tokens"])
    assert emu.shape.hidden == decoder["hidden_size"] and emu.shape.kv_heads == decoder["num_key_value_heads"]
    for m in (m for m in msgs if m["type"] == "token" and m["count"]):  # none before the emulated wafer made it
        assert m["t_emit_ms"] >= emu.release_ms(m["index"] + m["count"] - 1) - 1.0
    assert done["text"] == "".join(m["text"] for m in msgs if m["type"] == "token")
