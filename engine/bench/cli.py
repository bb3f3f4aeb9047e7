"""``tessera-engine bench``: the engine's speed figures, side by side with the peers, in one run.

Six measurements, each a median over repeats (this is a shared 2-core machine: expect noise, read
ratios taken in the same run rather than absolute figures from different runs):

1. decode tok/s: our fast loop vs onnxruntime-genai's ``Generator`` loop vs Optimum's
   ``ORTModelForCausalLM.generate``, on the same weights (peers run the twin without draft inputs);
2. an edit suite (held-out stdlib functions × the bundled model's instruction kinds): effective
   tok/s with predicted-output speculation on vs off, acceptance rate, identical output check;
3. TTFT for a ~2,000-token file, cold vs prewarmed (on a model whose context holds it);
4. round trip of a small request: persistent WebSocket to a real engine vs new HTTP connection;
   and the remote path (engine/bench/remote.py): an edit turn through the Responses WebSocket mode
   vs a new HTTP request per turn, against a second engine process serving the OpenAI API;
5. per-token time: fast loop vs a naive ``session.run`` loop on the plain Optimum-layout graph;
6. stop latency (stop sent → ``done``) during decode and during a long prefill.

``--json`` prints one object; every key names its unit (``_ms``, ``_tok_s``, ratios unitless).
Sections 2, 3 and 6 run through the engine as it serves (engine/bench/engine_figures.py); the
sizes of a full and a quick run are engine/bench/sizes.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import peers
from .engine_figures import edit_suite_figures, ttft_and_stop_figures
from .loops import fast_loop, interleaved, naive_loop
from .remote import remote_transport_figures
from .sizes import FULL, QUICK, BenchSizes, median_ms, ratio
from ..model.fastrunner import ENGINE_WEIGHTS, WEIGHT_FORMATS, FastDecoder
from ..model.modelspec import ModelSpec, default_model_dir, load_spec


# -- 1 and 5: decode loops ------------------------------------------------------------------

def _prompt(spec: ModelSpec, n: int, seed: int) -> list[int]:
    return [int(t) for t in np.random.default_rng(seed).integers(0, min(spec.config.vocab_size, 256), n)]


PLAIN_WEIGHTS = ENGINE_WEIGHTS["plain"]  # the format the engine decodes in one token per step


def decode_figures(spec: ModelSpec, s: BenchSizes, quick: bool) -> dict:
    """Fast loop (each weight format) and the naive loop, interleaved; same prompt and steps."""
    prompt = _prompt(spec, s.prompt_tokens, 0)
    formats = [PLAIN_WEIGHTS] if quick else list(WEIGHT_FORMATS)
    runs = {w: fast_loop(FastDecoder(spec, weights=w), prompt, s.decode_steps) for w in formats}
    runs["naive"] = naive_loop(spec, prompt, s.decode_steps)
    res = interleaved(runs, s.repeats)
    fig: dict = {"model": spec.name, "weights": PLAIN_WEIGHTS}
    for name in formats:
        fig[f"plain_tok_s_{name}"] = round(1 / statistics.median(x[0] for x in res[name]), 1)
    default = [x[0] for x in res[PLAIN_WEIGHTS]]
    fig.update(plain_tok_s=round(1 / statistics.median(default), 1), per_token_ms=median_ms(default),
               naive_per_token_ms=median_ms(res["naive"]))
    fig["per_token_reduction"] = round(1 - fig["per_token_ms"] / fig["naive_per_token_ms"], 3)
    if not quick:  # does the approximate format change greedy choices on this prompt?
        ref = res["float32"][-1][1]
        for name in [f for f in formats if f != "float32"]:
            toks = res[name][-1][1]
            fig[f"greedy_agreement_{name}"] = round(float(np.mean(np.asarray(toks) == np.asarray(ref))), 3)
    return fig


def peer_figures(spec: ModelSpec, s: BenchSizes, tmp: Path) -> dict:
    """Ours vs genai vs Optimum on the twin without draft inputs (same weights), interleaved."""
    twin = load_spec(peers.plain_twin(spec, tmp / "plain")) if spec.extra_inputs else spec
    prompt = _prompt(spec, s.prompt_tokens, 1)
    ours = fast_loop(FastDecoder(twin, weights=PLAIN_WEIGHTS), prompt, s.decode_steps)
    _, tokens = ours()
    runs = {"ours": ours}
    fig: dict = {"ours_twin_tok_s": None, "genai_tok_s": None, "genai_ratio": None,
                 "optimum_tok_s": None, "optimum_ratio": None}
    try:
        # An end token our greedy run never chose keeps genai from stopping early: same work.
        eos = next(i for i in range(twin.config.vocab_size) if i not in set(tokens))
        step_bits = WEIGHT_FORMATS[PLAIN_WEIGHTS][1]  # the timed calls are single-token steps
        runs["genai"] = peers.genai_runner(peers.genai_folder(twin, tmp / "genai", eos, quant_bits=step_bits),
                                           prompt, s.decode_steps)
    except peers.PeerMissing as exc:
        fig["genai_status"] = f"not installed: {exc}"
    except Exception as exc:  # a peer's failure is a finding, not a crash
        fig["genai_status"] = f"failed: {type(exc).__name__}: {exc}"
    if PLAIN_WEIGHTS != "float32":  # Optimum runs float32 weights: compare with ours on those too
        runs["ours_float32"] = fast_loop(FastDecoder(twin, weights="float32"), prompt, s.decode_steps)
    try:
        runs["optimum"] = peers.optimum_runner(twin.folder, prompt, max(4, s.decode_steps // 2))
    except peers.PeerMissing as exc:
        fig["optimum_status"] = f"not installed: {exc}"
    except Exception as exc:
        fig["optimum_status"] = f"failed: {type(exc).__name__}: {exc}"
    res = interleaved(runs, s.repeats)
    mine = statistics.median(x[0] for x in res["ours"])
    fig["ours_twin_tok_s"] = round(1 / mine, 1)
    if "genai" in res:
        theirs = statistics.median(x[0] for x in res["genai"])
        fig.update(genai_tok_s=round(1 / theirs, 1), genai_ratio=ratio(theirs, mine),
                   genai_same_tokens=res["genai"][-1][1] == res["ours"][-1][1])
    if "optimum" in res:
        theirs = statistics.median(res["optimum"])
        fig.update(optimum_tok_s=round(1 / theirs, 1), optimum_ratio=ratio(theirs, mine))
        if "ours_float32" in res:
            fig["optimum_ratio_float32"] = ratio(theirs, statistics.median(x[0] for x in res["ours_float32"]))
    return fig


def transport_figures(model_dir: Path, s: BenchSizes) -> dict:
    trips = peers.round_trips(model_dir, s.round_trips, chunk=min(25, s.round_trips))
    fig = {"ws_overhead_ms": median_ms(trips["ws"]), "http_overhead_ms": median_ms(trips["http"])}
    fig["ws_overhead_reduction"] = round(1 - fig["ws_overhead_ms"] / fig["http_overhead_ms"], 3)
    # The same round trip on an engine without the HTTP front (native protocol only): the front's cost.
    fig["ws_native_only_overhead_ms"] = median_ms(trips["ws_native_only"])
    fig["ws_front_ratio"] = round(fig["ws_overhead_ms"] / fig["ws_native_only_overhead_ms"], 3)
    return fig


# -- command line ---------------------------------------------------------------------------

def add_bench_parser(sub) -> None:
    p = sub.add_parser("bench", help="speed figures side by side with onnxruntime-genai and Optimum")
    p.add_argument("--model", help="model folder (default: the bundled model)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test, not a measurement)")
    p.add_argument("--skip-peers", action="store_true", help="leave out onnxruntime-genai and Optimum")
    p.add_argument("--repeats", type=int, help="rounds per figure (default 9; 2 with --quick)")
    p.add_argument("--remote-only", action="store_true",
                   help="only the remote transport row (WebSocket mode vs HTTP per turn against a second engine)")
    from .foreign_models import add_foreign_args

    add_foreign_args(p)


def _section(results: dict, name: str, fn, *args) -> None:
    t0 = time.perf_counter()
    try:
        out = fn(*args)
        if asyncio.iscoroutine(out):
            out = asyncio.run(out)
        results.update(out)
    except Exception as exc:  # one failing section must not hide the others' figures
        results[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
    results.setdefault("section_s", {})[name] = round(time.perf_counter() - t0, 1)


KEYS = ("plain_tok_s", "per_token_ms", "naive_per_token_ms", "per_token_reduction", "genai_tok_s", "genai_ratio",
        "optimum_tok_s", "optimum_ratio", "speculative_speedup", "acceptance_rate", "ttft_cold_ms",
        "ttft_prewarmed_ms", "ws_overhead_ms", "http_overhead_ms", "ws_overhead_reduction", "stop_latency_ms",
        "stop_latency_prefill_ms", "remote_ws_turn_ms", "remote_http_turn_ms", "remote_ws_vs_http_ratio")


def run_bench(args) -> int:
    import onnxruntime as ort

    if getattr(args, "foreign_only", False):
        return _print(_foreign_results(args, {}), args.json)
    model_dir = Path(args.model) if args.model else default_model_dir()
    spec = load_spec(model_dir)
    if not FastDecoder.supports(spec):
        print(f"tessera-engine: {spec.name} is not a Tessera-built graph; the fast path needs one", file=sys.stderr)
        return 2
    s = QUICK if args.quick else FULL
    if getattr(args, "repeats", None):
        s = dataclasses.replace(s, repeats=max(1, args.repeats))
    results: dict = {key: None for key in KEYS}
    results.update(date_utc=time.strftime("%Y-%m-%d %H:%M", time.gmtime()), quick=bool(args.quick),
                   machine=f"{platform.processor() or platform.machine()}, {ort.__version__}, 1 intra-op thread")
    if getattr(args, "remote_only", False):
        results = {k: v for k, v in results.items() if k not in KEYS or k.startswith("remote_")}
        _section(results, "remote_transport", remote_transport_figures, model_dir, s.remote_turns)
        return _print(results, args.json)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
        _section(results, "decode", decode_figures, spec, s, args.quick)
        if args.skip_peers:
            results.update(genai_status="skipped", optimum_status="skipped")
        else:
            _section(results, "peers", peer_figures, spec, s, Path(tmp))
        _section(results, "edit_suite", edit_suite_figures, spec, s, args.quick)
        _section(results, "ttft_stop", ttft_and_stop_figures, spec, s)
        _section(results, "transport", transport_figures, model_dir, s)
        _section(results, "remote_transport", remote_transport_figures, model_dir, s.remote_turns)
    if getattr(args, "foreign", False):
        _foreign_results(args, results)
    return _print(results, args.json)


def _foreign_results(args, results: dict) -> dict:
    """The rows on a real-size chat model (engine/bench/foreign_models.py)."""
    from .foreign_models import default_dir, foreign_figures

    s = QUICK if args.quick else FULL
    repeats = max(1, args.repeats) if getattr(args, "repeats", None) else min(s.repeats, 5)
    _section(results, "foreign", foreign_figures, args.foreign_dir or default_dir(), args.foreign_python,
             s.prompt_tokens, min(s.decode_steps, 32), repeats)
    return results


def _print(results: dict, as_json: bool) -> int:
    if as_json:
        print(json.dumps(results, indent=1))
    else:
        width = max(map(len, results))
        for key, value in results.items():
            print(f"{key:<{width}}  {value}")
    return 0
