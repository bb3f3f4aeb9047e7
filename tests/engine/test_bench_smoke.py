"""`tessera-engine bench --quick --json` runs end to end and names every figure (no timing asserts)."""

import json
import subprocess
import sys

from tests.conftest import ROOT

FIGURES = ("plain_tok_s", "per_token_ms", "naive_per_token_ms", "per_token_reduction", "genai_tok_s", "genai_ratio",
           "optimum_tok_s", "optimum_ratio", "speculative_speedup", "acceptance_rate", "ttft_cold_ms",
           "ttft_prewarmed_ms", "ws_overhead_ms", "http_overhead_ms", "ws_overhead_reduction", "stop_latency_ms",
           "stop_latency_prefill_ms", "remote_ws_turn_ms", "remote_http_turn_ms", "remote_ws_vs_http_ratio")


def test_quick_bench_prints_one_json_object_with_every_figure(tiny_model_dir):
    # Peers are optional packages; --skip-peers keeps the smoke test to what CI installs.
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "bench", "--quick", "--json", "--skip-peers",
                           "--model", str(tiny_model_dir)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(FIGURES) <= set(out)
    assert not [k for k in out if k.endswith("_error")], {k: v for k, v in out.items() if k.endswith("_error")}
    for key in ("plain_tok_s", "per_token_ms", "naive_per_token_ms", "ttft_cold_ms", "ttft_prewarmed_ms",
                "ws_overhead_ms", "http_overhead_ms", "stop_latency_ms", "remote_ws_turn_ms", "remote_http_turn_ms",
                "remote_http_keepalive_turn_ms"):
        assert out[key] is not None and out[key] > 0, key
    assert out["genai_status"] == "skipped" and out["optimum_status"] == "skipped"
    assert out["engine_decoder"] == "FastDecoder"
    assert out["speculative_output_identical"] is True
    # The remote row ran against a second engine process, every WebSocket turn on one kept socket.
    assert out["remote_ws_transport"] == "websocket" and out["remote_ws_sockets_opened"] == 1


def test_a_missing_peer_is_reported_not_fatal(tiny_model_dir, tmp_path, monkeypatch):
    from engine.bench import cli as bench
    from engine.bench import peers as benchpeers
    from engine.model.modelspec import load_spec

    def missing(*args, **kwargs):
        raise benchpeers.PeerMissing("onnxruntime-genai")

    monkeypatch.setattr(benchpeers, "genai_runner", missing)
    monkeypatch.setattr(benchpeers, "optimum_runner", missing)
    fig = bench.peer_figures(load_spec(tiny_model_dir), bench.QUICK, tmp_path)
    assert fig["genai_ratio"] is None and fig["genai_status"].startswith("not installed")
    assert fig["optimum_ratio"] is None and fig["optimum_status"].startswith("not installed")
    assert fig["ours_twin_tok_s"] > 0


def test_transport_round_trips_give_the_asked_count_from_both_servers(tiny_model_dir):
    from engine.bench import peers as benchpeers

    out = benchpeers.round_trips(tiny_model_dir, 7, chunk=3)  # chunks of 3: the last one is cut to fit
    assert len(out["ws"]) == 7 and len(out["http"]) == 7
    assert all(t > 0 for t in out["ws"] + out["http"])


def test_foreign_rows_measure_our_decoder_on_genai_folders(tmp_path):
    """The --foreign rows on already-built folders (the committed small Qwen2 exports stand in for
    the real-size ones, which need torch to build): ours is the bound decoder, and where
    onnxruntime-genai is installed, its loop chose the same greedy tokens."""
    import shutil

    from engine.bench import foreign_models as benchforeign
    from tests.foreign import FOREIGN

    for precision in benchforeign.PRECISIONS:
        shutil.copytree(FOREIGN / f"qwen2-genai-{precision}", tmp_path / f"qwen2.5-0.5b-genai-{precision}")
    fig = benchforeign.foreign_figures(tmp_path, sys.executable, 8, 4, 1)
    for precision in benchforeign.PRECISIONS:
        assert fig[f"foreign_{precision}_decoder"] == "BoundDecoder"
        assert fig[f"foreign_{precision}_ours_tok_s"] > 0
        if "foreign_genai_status" not in fig:
            assert fig[f"foreign_{precision}_same_tokens"] is True
            assert fig[f"foreign_{precision}_ratio"] > 0


def test_remote_only_runs_just_the_transport_row(tiny_model_dir):
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "bench", "--quick", "--json", "--remote-only",
                           "--model", str(tiny_model_dir)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["remote_ws_turn_ms"] > 0 and out["remote_http_turn_ms"] > 0 and out["remote_ws_vs_http_ratio"] > 0
    assert out["remote_ws_sockets_opened"] == 1 and "plain_tok_s" not in out and "genai_ratio" not in out
    assert list(out["section_s"]) == ["remote_transport"]
