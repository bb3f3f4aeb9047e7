"""A long target edited in windows, paced to emulated hardware: each window's own prompt is prefilled."""

import asyncio
import dataclasses
import fractions
import inspect
import json

import pytest

from engine.model.modelspec import MODELS_DIR
from engine.serve.pacing import own_shape, prompt_emulation
from engine.wafer.emulation import emulation
from engine.wafer.presets import resolve_shape
from tests.conftest import EngineProcess
from tests.engine.test_server import recv_until, session

MODEL = MODELS_DIR / "tessera-edit-mini"  # 512 tokens of context
SOURCE = inspect.getsource(fractions)  # Fraction.limit_denominator: 54 lines, mostly comments
START = SOURCE.index("    def limit_denominator(")
END = SOURCE.index("    @property", START)


@pytest.fixture(scope="module")
def mini_engine():
    eng = EngineProcess(MODEL)
    yield eng
    eng.close()


def edit(engine, text, selection, instruction, **pacing):
    async def go():
        ws, _ = await session(engine)
        await ws.send(json.dumps({"type": "open", "session": "w", "document": {"text": text, "language": "python"}}))
        await recv_until(ws, lambda m: m["type"] == "ready")
        await ws.send(json.dumps({"type": "generate", "session": "w", "request": "r", "instruction": instruction,
                                  "selection": {"start": selection[0], "end": selection[1]}, **pacing}))
        msgs = await recv_until(ws, lambda m: m["type"] in ("done", "error"))
        await ws.close()
        return msgs
    return asyncio.run(go())


@pytest.mark.parametrize("profile, emulate", [("h100x8", None), ("wse-3", "llama-3.1-70b")])
def test_a_windowed_edit_streams_paced_to_the_end(mini_engine, profile, emulate):
    pacing = {"profile": profile, **({"emulate": emulate} if emulate else {})}
    msgs = edit(mini_engine, SOURCE, (START, END), "rename variable bound1 to lower", **pacing)
    done = msgs[-1]
    assert done["type"] == "done" and done["reason"] == "eos", done
    stats = done["stats"]
    assert stats["windows"] > 1 and stats.get("error") is None
    model = emulate or MODEL.name
    assert stats["profile"] == profile and stats["emulated_model"] == model and stats["paced"] is True
    assert stats["emulated_tok_s"] > 0 and stats["released_tokens"] == stats["tokens_total"] > 0
    # The first token comes after the prefill of one window's prompt (at most the model's
    # context), never of the whole target's prompt, which the engine never ran.
    shape = resolve_shape(emulate or own_shape(MODEL))
    assert 0 < stats["emulated_ttft_ms"] <= emulation(profile, shape, prompt_tokens=512).ttft_ms
    layout = next(m for m in msgs if m["type"] == "tiles" and "layout" in m)
    assert layout["emulation"]["model"] == model
    out = done["text"]
    assert out == "".join(m["text"] for m in msgs if m["type"] == "token")
    assert "lower" in out and "bound1" not in out
    compile(SOURCE[:START] + out + SOURCE[END:], "fractions.py", "exec")


def test_a_target_too_long_even_for_windows_gets_the_engines_refusal_under_a_profile(mini_engine):
    text = "TABLE = [\n" + "    (1, 'one'),\n" * 400 + "]\n"
    done = edit(mini_engine, text, (0, len(text)), "rename variable TABLE to ROWS", profile="h100x8")[-1]
    assert done["type"] == "done" and done["reason"] == "error"
    error = done["stats"]["error"]
    assert error["code"] == "context_overflow" and "Select less code" in error["message"]


def test_a_prompt_beyond_the_emulated_models_context_says_what_to_do():
    short = dataclasses.replace(resolve_shape("llama-3.1-8b"), max_context=256)
    with pytest.raises(ValueError, match="longer than .*context of 256 tokens; emulate a model with a longer"):
        prompt_emulation("h100x8", short, 300)
    assert prompt_emulation("h100x8", short, 200).prompt_tokens == 200
