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


def test_moe_precisions_draft_and_deployment_flags(capsys):
    code, out, _ = run(capsys, "--config", "deepseek-v3", "--profile", "b200x8", "--weights", "fp8", "--kv", "fp8",
                       "--draft", "eagle", "--draft-tokens", "3", "--deployment", "internet", "--transport", "http",
                       "--json")
    data = json.loads(out)
    assert code == 0 and data["weight_precision"] == "fp8" and data["kv_precision"] == "fp8"
    assert data["total_params_b"] > 600 and 30 < data["active_params_b"] < 40
    assert data["decode_tok_s_speculative"] > data["decode_tok_s"] > 0
    assert data["ttft_parts_ms"]["network"] == 120.0 and data["experts"]["experts"] == 256


def test_text_output_names_experts_and_ttft_parts(capsys):
    code, out, _ = run(capsys, "--config", "llama-4-maverick", "--profile", "wse-3", "--draft", "llama-3.1-8b")
    assert code == 0
    assert "128 routed, 1 per token, a shared expert, 24 MoE layers" in out
    assert "draft model llama-3.1-8b" in out and "network" in out and "prefill" in out


def test_an_unknown_expert_key_in_a_config_is_an_error_naming_it(capsys, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
                                "vocab_size": 100, "max_position_embeddings": 64, "num_local_experts": 4,
                                "num_experts_per_tok": 2, "expert_capacity": 8}))
    code, _, err = run(capsys, "--config", str(path), "--profile", "wse-3")
    assert code == 2 and "expert_capacity" in err
