"""`tessera-engine emulate`, driven through an argparse parser built as engine/cli.py will."""

import argparse
import json

import pytest

from engine.wafer.cli import add_emulate_parser, run_emulate


def run(capsys, *argv):
    parser = argparse.ArgumentParser(prog="tessera-engine")
    add_emulate_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["emulate", *argv])
    code = run_emulate(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_output_has_the_documented_keys(capsys):
    code, out, _ = run(capsys, "--config", "llama-3.1-70b", "--profile", "wse-3", "--prompt-tokens", "900", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("decode_tok_s", "ttft_ms", "wafers", "tiles_per_layer", "sram_utilization", "strategy", "reason"):
        assert key in data
    assert data["wafers"] >= 2 and data["tiles_per_layer"] > 10_000 and 0 < data["sram_utilization"] < 1


def test_text_output_reads_like_a_report(capsys):
    code, out, _ = run(capsys, "--config", "llama-3.1-8b", "--profile", "wse-3")
    assert code == 0
    for label in ("decode", "TTFT", "wafers", "tiles/layer", "SRAM use", "tok/s"):
        assert label in out


def test_gpu_profile_and_speculation(capsys):
    code, out, _ = run(capsys, "--config", "qwen2-72b", "--profile", "b200x8", "--speculation-acceptance", "0.6", "--json")
    data = json.loads(out)
    assert code == 0 and data["gpus"] == 8 and data["wafers"] is None and data["tokens_per_step"] > 1


def test_config_json_path_is_accepted(capsys, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({
        "num_hidden_layers": 2, "hidden_size": 256, "num_attention_heads": 4, "intermediate_size": 512,
        "vocab_size": 1000, "max_position_embeddings": 1024,
    }))
    code, out, _ = run(capsys, "--config", str(cfg), "--profile", "wse-2", "--json")
    assert code == 0 and json.loads(out)["wafers"] == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--config", "nope-7b", "--profile", "wse-3"], "unknown model"),
        (["--config", "llama-3.1-405b", "--profile", "wse-3", "--wafers", "2"], "needs at least"),
        (["--config", "llama-3.1-8b", "--profile", "wse-3", "--speculation-acceptance", "3"], "[0, 1)"),
        (["--config", "llama-3.1-8b", "--profile", "wse-3", "--prompt-tokens", "-5"], "prompt_tokens"),
    ],
)
def test_bad_input_is_a_message_and_exit_code_2_not_a_traceback(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err


def test_local_profile_explains_there_is_no_pacing(capsys):
    code, out, _ = run(capsys, "--config", "tessera-edit-mini", "--profile", "local")
    assert code == 0 and "no pacing" in out
