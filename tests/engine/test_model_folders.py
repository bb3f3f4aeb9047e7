"""Broken model folders (made in tmp from the tiny-random model): each is refused at load with one
clear line, never a traceback; a folder that loads but fails per request gets `error` frames."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.model.modelspec import MODELS_DIR, ModelFolderError
from engine.decode.session import Engine

ROOT = Path(__file__).resolve().parents[2]
TINY = MODELS_DIR / "tiny-random"
MINI = MODELS_DIR / "tessera-edit-mini"


def _json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    out = change(data)
    path.write_text(json.dumps(data if out is None else out))


def _flip_weights(onnx_path: Path) -> None:
    """Set the exponent bits of many float32 weights: the graph still loads, the numbers are garbage."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    for init in model.graph.initializer:
        w = numpy_helper.to_array(init)
        if w.dtype == np.float32 and w.size > 1000:
            w = w.copy()
            w.view(np.uint32)[::7] |= np.uint32(0x7F000000)
            init.CopyFrom(numpy_helper.from_array(w, init.name))
    onnx.save(model, str(onnx_path))


BREAKAGES = {
    "no_onnx": lambda d: (d / "model.onnx").unlink(),
    "empty_onnx": lambda d: (d / "model.onnx").write_bytes(b""),
    "garbage_onnx": lambda d: (d / "model.onnx").write_bytes(b"\x00garbage" * 100),
    "truncated_onnx": lambda d: (d / "model.onnx").write_bytes((d / "model.onnx").read_bytes()[:5000]),
    "onnx_is_a_folder": lambda d: ((d / "model.onnx").unlink(), (d / "model.onnx").mkdir()),
    "flipped_weights": lambda d: _flip_weights(d / "model.onnx"),
    "other_models_onnx": lambda d: shutil.copy(MINI / "model.onnx", d / "model.onnx"),
    "no_config": lambda d: (d / "config.json").unlink(),
    "config_not_json": lambda d: (d / "config.json").write_text("{oops"),
    "config_a_list": lambda d: (d / "config.json").write_text("[1, 2]"),
    "config_binary": lambda d: (d / "config.json").write_bytes(b"\xff\xfe\x00\x01"),
    "config_vocab_text": lambda d: _json(d / "config.json", lambda c: c.update(vocab_size="many")),
    "config_vocab_smaller": lambda d: _json(d / "config.json", lambda c: c.update(vocab_size=100)),
    "config_vocab_larger": lambda d: _json(d / "config.json", lambda c: c.update(vocab_size=5000)),
    "config_hidden_wrong": lambda d: _json(d / "config.json", lambda c: c.update(hidden_size=32, head_dim=8)),
    "config_layers_wrong": lambda d: _json(d / "config.json", lambda c: c.update(num_hidden_layers=3)),
    "config_no_layers": lambda d: _json(d / "config.json", lambda c: c.pop("num_hidden_layers")),
    "config_negative": lambda d: _json(d / "config.json", lambda c: c.update(max_position_embeddings=-5)),
    "config_eos_text": lambda d: _json(d / "config.json", lambda c: c.update(eos_token_id="end")),
    "config_eos_out_of_range": lambda d: _json(d / "config.json", lambda c: c.update(eos_token_id=99999)),
    "no_tokenizer": lambda d: (d / "tokenizer.json").unlink(),
    "tokenizer_not_json": lambda d: (d / "tokenizer.json").write_text("not json"),
    "tokenizer_empty_object": lambda d: (d / "tokenizer.json").write_text("{}"),
    "other_models_tokenizer": lambda d: shutil.copy(MINI / "tokenizer.json", d / "tokenizer.json"),
    "tessera_not_json": lambda d: (d / "tessera.json").write_text("{"),
    "tessera_a_list": lambda d: (d / "tessera.json").write_text("[]"),
    "special_tokens_a_list": lambda d: _json(d / "tessera.json", lambda t: t.update(special_tokens=["<code>"])),
    "special_token_missing": lambda d: _json(d / "tessera.json",
                                             lambda t: t.update(special_tokens={**t.get("special_tokens", {}),
                                                                                "instr": "<no-such-token>"})),
    "skills_not_a_list": lambda d: _json(d / "tessera.json", lambda t: t.update(skills=5)),
    "skill_bad_regex": lambda d: _json(d / "tessera.json", lambda t: t.update(skills=[{"name": "x", "pattern": "("}])),
    "extra_input_missing": lambda d: _json(d / "tessera.json", lambda t: t.update(extra_inputs=["draft_ids"])),
    "extra_inputs_a_string": lambda d: _json(d / "tessera.json", lambda t: t.update(extra_inputs="draft_ids")),
    "name_an_object": lambda d: _json(d / "tessera.json", lambda t: t.update(name={"x": 1})),
    "file_context_without_token": lambda d: _json(d / "tessera.json", lambda t: t.update(
        special_tokens={k: v for k, v in (t.get("special_tokens") or {
            "file": "<file>", "code": "<code>", "instr": "<instr>", "edit": "<edit>", "end": "<end>",
            "pad": "<pad>"}).items() if k != "file"}, file_context=True)),
    "folder_is_a_file": None,
    "folder_missing": None,
}


def broken_folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    if name == "folder_missing":
        return folder
    if name == "folder_is_a_file":
        folder.write_text("not a folder")
        return folder
    shutil.copytree(TINY, folder)
    BREAKAGES[name](folder)
    return folder


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_each_broken_folder_is_refused_with_one_clear_line(tmp_path, name):
    folder = broken_folder(tmp_path, name)
    with pytest.raises(ModelFolderError) as info:
        Engine(folder).close()
    message = str(info.value)
    assert "\n" not in message and 10 < len(message) <= 400, message
    assert "Traceback" not in message
    assert str(tmp_path) in message  # says which folder


def test_the_cli_prints_one_line_and_exits_2(tmp_path):
    folder = broken_folder(tmp_path, "other_models_tokenizer")
    out = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--model", str(folder)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**__import__("os").environ, "TESSERA_TOKEN": "t"})
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tessera-engine: ") and "tokenizer" in lines[0]


def test_the_bundled_and_test_models_pass_the_check():
    for folder in (TINY, MINI):
        Engine(folder).close()


def test_a_model_that_fails_per_request_gets_error_frames(tiny_model_dir):
    from tests.engine.wsclient import client, recv_until, reply, send, served

    engine = Engine(tiny_model_dir)

    def broken(*args, **kwargs):
        raise RuntimeError("ONNX Runtime failed: bad allocation")

    engine.decoder.prefill = broken
    engine.decoder.forward = broken
    engine.decoder.forward_greedy = broken

    async def go():
        async with served(engine) as url:
            ws = await client(url)
            opened = await reply(ws, type="open", session="s", document={"text": "def f(x):\n    return x\n"})
            await send(ws, type="generate", session="s", request="r", instruction="x", max_tokens=5)
            done = await recv_until(ws, lambda m: m["type"] in ("done", "error") and m.get("request") == "r")
            pong = await reply(ws, type="ping", id="still")
            await ws.close()
            return opened, done[-1], pong

    try:
        opened, done, pong = asyncio.run(asyncio.wait_for(go(), 60))
    finally:
        engine.close()
    assert opened["type"] == "error" and opened["code"] == "engine_error" and opened["session"] == "s"
    assert "bad allocation" in opened["message"]
    assert done["type"] == "done" and done["reason"] == "error" and "bad allocation" in done["stats"]["error"]["message"]
    assert pong == {"type": "pong", "id": "still"}
