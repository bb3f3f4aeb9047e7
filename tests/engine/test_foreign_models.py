"""Chat-model exports as Optimum and onnxruntime-genai write them load with no file of ours, get their
own chat template's prompt, stream, and stop at every EOS id they declare (engine/model/foreign_folder.py).

The folders are random-weight shrunk Qwen2, Llama 3.2, Phi-3 and Gemma 2 exports made by
``python -m engine.foreign build`` (committed: building them needs torch and two transformers).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from engine.model.boundrunner import BoundDecoder
from engine.model.chat_edit import SYSTEM_PROMPT
from engine.model.fastrunner import make_decoder
from engine.model.modelspec import ModelFolderError, load_spec
from engine.model.runner import OnnxDecoder
from tests.conftest import ROOT
from tests.foreign import FOLDERS, FOREIGN, GENERATION_PROMPT, declared_eos, family, with_logit_bias

CODE = "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n"
INSTRUCTION = "add type hints"


def ids_of(folder):
    return folder.name


@pytest.fixture(scope="module", params=FOLDERS, ids=ids_of)
def spec(request):
    return load_spec(request.param)


def test_every_family_and_layout_is_committed():
    assert len(FOLDERS) == 12 and all((f / "model.onnx").is_file() for f in FOLDERS)
    genai = [f for f in FOLDERS if "genai" in f.name]
    assert all(not (f / "config.json").exists() and (f / "genai_config.json").is_file() for f in genai)
    assert not any((f / "tessera.json").exists() for f in FOLDERS)


def test_prompt_is_the_folders_chat_template_with_code_before_the_instruction(spec):
    text = spec.chat.render(INSTRUCTION, CODE)
    assert SYSTEM_PROMPT in text
    assert text.index(SYSTEM_PROMPT) < text.index(CODE) < text.index(INSTRUCTION)
    assert f"```\n{CODE}```\n\nInstruction: {INSTRUCTION}\n" in text  # the code fenced, then the instruction
    assert text.endswith(GENERATION_PROMPT[family(spec.folder)])
    prompt = spec.chat.build(INSTRUCTION, CODE)
    # Control tokens are single ids, and no piece gains a stray "▁" or space: the ids decode to the text.
    assert spec.tokenizer.decode(prompt.ids, skip_special_tokens=False) == text
    first = text.split(">", 1)[0] + ">"
    assert prompt.ids[0] == spec.tokenizer.token_to_id(first)
    assert spec.tokenizer.decode(prompt.source_ids) == CODE
    assert spec.tokenizer.decode(prompt.instruction_ids) == INSTRUCTION


def test_the_prefix_before_the_instruction_does_not_depend_on_it(spec):
    a = spec.chat.build("add type hints", CODE)
    b = spec.chat.build("rename s to acc and explain nothing", CODE)
    assert a.ids[:a.prefix_len] == b.ids[:b.prefix_len] == spec.chat.prefix(CODE)
    prefix, n = a.ids[:a.prefix_len], len(a.source_ids)
    assert any(prefix[i:i + n] == a.source_ids for i in range(len(prefix) - n + 1))  # the code is prewarmed
    assert a.ids[a.prefix_len:a.prefix_len + len(a.instruction_ids)] == a.instruction_ids


def test_code_that_contains_control_token_text_stays_text(spec):
    marker = GENERATION_PROMPT[family(spec.folder)].split(">")[0] + ">"
    code = f"s = '{marker}'\n"
    prompt = spec.chat.build(INSTRUCTION, code)
    assert spec.tokenizer.token_to_id(marker) not in prompt.source_ids
    assert spec.tokenizer.decode(prompt.source_ids) == code


def test_eos_ids_are_the_union_of_every_file_and_control_tokens_are_never_chosen(spec):
    assert spec.eos_ids == declared_eos(spec.folder)
    assert len(spec.eos_ids) >= 2  # every family declares more than one place or id
    control = [i for i, t in spec.tokenizer.get_added_tokens_decoder().items() if t.special and i not in spec.eos_ids]
    assert control and all(spec.ban_bias[i] == -np.inf for i in control)
    assert all(spec.ban_bias[i] == 0 for i in spec.eos_ids)


def test_genai_folders_run_on_the_bound_cache_and_match_the_optimum_export(monkeypatch):
    """Same weights, two exporters: the bound GroupQueryAttention graph (Gemma 2 with its 32-token
    sliding window, on a prompt several windows long; the cache growing from 48 tokens on the way)
    decodes what Optimum's graph decodes."""
    import engine.model.boundrunner

    monkeypatch.setattr(engine.model.boundrunner, "INITIAL_CAPACITY", 48)
    for fam in ("qwen2", "llama3", "phi3", "gemma2"):
        opt = load_spec(FOREIGN / f"{fam}-optimum")
        gen = load_spec(FOREIGN / f"{fam}-genai-fp32")
        bound = make_decoder(gen)
        assert isinstance(bound, BoundDecoder)
        assert isinstance(make_decoder(opt), OnnxDecoder)
        ids = opt.chat.build(INSTRUCTION, CODE * 2).ids
        assert ids == gen.chat.build(INSTRUCTION, CODE * 2).ids
        if fam == "gemma2":
            assert gen.sliding_window == 32 and len(ids) > 4 * 32
        assert bound._cap == max(48, gen.sliding_window or 0)
        outs = []
        for dec in (OnnxDecoder(opt), bound):
            last = dec.prefill(ids, chunk=48)
            toks = [int(np.argmax(last + opt.ban_bias))]
            for _ in range(12):
                toks += dec.forward_greedy([toks[-1]])
            outs.append(toks)
        assert outs[0] == outs[1], fam
        assert bound._cap >= len(ids) + 12



@pytest.mark.parametrize("fam", ["qwen2", "llama3", "phi3"])  # Gemma 2 needs the bound cache
def test_int4_folders_decode_the_same_tokens_bound_as_plain(fam):
    """The bound cache (on huge pages, collapsed while it decodes) picks the plain decoder's greedy
    tokens on the int4 export, where MatMulNBits does the work."""
    spec = load_spec(FOREIGN / f"{fam}-genai-int4")
    ids = spec.chat.build(INSTRUCTION, CODE).ids
    bound = make_decoder(spec)
    assert isinstance(bound, BoundDecoder)
    outs = []
    for dec in (OnnxDecoder(spec), bound):
        toks = [int(np.argmax(dec.prefill(ids) + spec.ban_bias))]
        for _ in range(16):
            toks += dec.forward_greedy([toks[-1]])
        outs.append(toks)
    assert outs[0] == outs[1]
    assert bound.huge_pages.wait(timeout=60)

def cli(*args):
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=180)


@pytest.mark.parametrize("folder", [f for f in FOLDERS if "int4" not in f.name], ids=ids_of)
def test_generate_streams_from_each_folder(folder, tmp_path):
    src = tmp_path / "f.py"
    src.write_text(CODE)
    proc = cli("generate", "--model", str(folder), "--file", str(src), "--instruction", INSTRUCTION,
               "--max-tokens", "200", "--json")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    done = events[-1]
    assert done["type"] == "done" and done["reason"] == "length" and done["stats"]["tokens_out"] == 200
    tokens = [e for e in events if e["type"] == "token"]
    assert sum(e["count"] for e in tokens) == 200
    # Random weights never open a code fence: the answer is passed on whole as bare code at its end.
    assert done["text"]
    assert "".join(e["text"] for e in tokens) == done["text"]


@pytest.mark.parametrize("folder", [f for f in FOLDERS if "fp32" not in f.name], ids=ids_of)
def test_generate_stops_at_each_declared_eos_id(folder, tmp_path):
    src = tmp_path / "f.py"
    src.write_text(CODE)
    for eos in sorted(declared_eos(folder)):
        biased = with_logit_bias(folder, eos, tmp_path / f"eos-{eos}")
        proc = cli("generate", "--model", str(biased), "--file", str(src), "--instruction", INSTRUCTION,
                   "--max-tokens", "50", "--json")
        assert proc.returncode == 0, proc.stderr
        done = json.loads(proc.stdout.splitlines()[-1])
        assert (done["reason"], done["stats"]["tokens_out"], done["text"]) == ("eos", 0, ""), eos


def test_a_control_token_the_model_favours_never_reaches_the_text(tmp_path):
    folder = FOREIGN / "qwen2-genai-int4"
    spec = load_spec(folder)
    im_start = spec.tokenizer.token_to_id("<|im_start|>")
    biased = with_logit_bias(folder, im_start, tmp_path / "m")
    src = tmp_path / "f.py"
    src.write_text(CODE)
    proc = cli("generate", "--model", str(biased), "--file", str(src), "--instruction", INSTRUCTION,
               "--max-tokens", "20", "--json")
    done = json.loads(proc.stdout.splitlines()[-1])
    assert done["stats"]["tokens_out"] == 20 and "<|im_start|>" not in done["text"]


def test_a_folder_without_chat_template_or_tessera_json_is_refused_at_load(tmp_path):
    folder = shutil.copytree(FOREIGN / "qwen2-optimum", tmp_path / "m")
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    cfg = json.loads((folder / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFolderError, match="no chat template"):
        load_spec(folder)
    src = tmp_path / "f.py"
    src.write_text(CODE)
    proc = cli("generate", "--model", str(folder), "--file", str(src), "--instruction", "x")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no chat template" in proc.stderr


def test_a_template_that_fails_is_refused_at_load(tmp_path):
    folder = shutil.copytree(FOREIGN / "gemma2-genai-int4", tmp_path / "m")
    (folder / "chat_template.jinja").write_text("{{ raise_exception('no edits here') }}")
    with pytest.raises(ModelFolderError, match="chat template"):
        load_spec(folder)
