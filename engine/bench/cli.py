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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import peers
from .loops import fast_loop, interleaved, naive_loop
from .remote import remote_transport_figures
from .suite import edit_cases, long_file
from ..model.fastrunner import ENGINE_WEIGHTS
from ..model.fastrunner import WEIGHT_FORMATS, FastDecoder
from ..model.modelspec import MODELS_DIR, ModelSpec, default_model_dir, load_spec


@dataclass
class BenchSizes:
    prompt_tokens: int  # tokens prefilled before a decode measurement
    decode_steps: int  # single-token steps per decode measurement
    repeats: int  # measurements per figure; figures are their medians
    edits_per_kind: int  # edit-suite examples per instruction kind
    edit_max_tokens: int  # output budget per edit, tokens
    ttft_file_tokens: int  # size of the file for the TTFT figure, tokens
    round_trips: int  # requests per transport measurement
    stop_trials: int  # stops per stop-latency figure
    remote_turns: int = 40  # edit turns per remote transport (engine/bench/remote.py)


FULL = BenchSizes(prompt_tokens=64, decode_steps=128, repeats=9, edits_per_kind=4, edit_max_tokens=400,
                  ttft_file_tokens=2000, round_trips=200, stop_trials=5)
QUICK = BenchSizes(prompt_tokens=16, decode_steps=12, repeats=2, edits_per_kind=1, edit_max_tokens=12,
                   ttft_file_tokens=200, round_trips=8, stop_trials=1, remote_turns=2)


def _ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1e3, 4)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


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
    fig.update(plain_tok_s=round(1 / statistics.median(default), 1), per_token_ms=_ms(default),
               naive_per_token_ms=_ms(res["naive"]))
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
        fig.update(genai_tok_s=round(1 / theirs, 1), genai_ratio=_ratio(theirs, mine),
                   genai_same_tokens=res["genai"][-1][1] == res["ours"][-1][1])
    if "optimum" in res:
        theirs = statistics.median(res["optimum"])
        fig.update(optimum_tok_s=round(1 / theirs, 1), optimum_ratio=_ratio(theirs, mine))
        if "ours_float32" in res:
            fig["optimum_ratio_float32"] = _ratio(theirs, statistics.median(x[0] for x in res["ours_float32"]))
    return fig


# -- 2, 3 and 6: through the engine's session API -------------------------------------------

def _engine(model_dir: Path):
    from ..decode.session import Engine

    eng = Engine(model_dir)
    if not isinstance(eng.decoder, FastDecoder) and FastDecoder.supports(eng.spec):
        eng.decoder = FastDecoder(eng.spec)  # the engine's own choice when it makes one
    return eng


async def _run(eng, sid: str, rid: str, instruction: str, selection, max_tokens: int, speculate: bool,
               stop_after_tokens: int | None = None, stop_after_s: float | None = None):
    """Stream one job; returns (done event, seconds from stop to done, tokens computed after stop).

    "Computed after stop" counts output tokens the worker appended after the stop was sent (a
    forward pass already running finishes; no new one may start), not tokens merely in flight.
    """
    from ..backends.edit_stream import stream_edit

    job = eng.make_job(sid, rid, instruction, selection, max_tokens, speculate=speculate)
    t_stop, seen, at_stop = None, 0, None
    stopper = None

    def stop_now() -> None:
        nonlocal t_stop, at_stop
        t_stop = time.perf_counter()
        at_stop = len(job.output_ids)
        eng.stop(rid)

    if stop_after_s is not None:
        async def stop_later():
            await asyncio.sleep(stop_after_s)
            stop_now()
        stopper = asyncio.ensure_future(stop_later())
    async for ev in stream_edit(eng, job):
        if ev.type == "token":
            seen += ev.count
            if stop_after_tokens is not None and t_stop is None and seen >= stop_after_tokens:
                stop_now()
        elif ev.type == "done":
            t_done = time.perf_counter()
            if stopper is not None:
                stopper.cancel()
            if t_stop is None:
                return ev, None, None
            return ev, t_done - t_stop, len(job.output_ids) - at_stop
    raise RuntimeError("stream ended without done")


async def edit_suite_figures(spec: ModelSpec, s: BenchSizes, quick: bool) -> dict:
    """Each edit with speculation off and on: through the engine as it runs (each mode in its own
    weight format, see ENGINE_WEIGHTS) and, in a full run, in every format alone."""
    from ..decode.session import Document

    eng = _engine(spec.folder)
    main = eng.decoder
    decoders = {"engine": main}
    if not quick and isinstance(main, FastDecoder):
        decoders.update({w: FastDecoder(spec, weights=w) for w in WEIGHT_FORMATS})
    tok = {(f, sp): 0 for f in decoders for sp in (False, True)}
    secs = {(f, sp): 0.0 for f in decoders for sp in (False, True)}
    same_as_float32 = {f: 0 for f in decoders}
    accepted = proposed = 0
    same = {f: True for f in decoders}  # speculation on and off gave the same text
    try:
        cases = edit_cases(spec, s.edits_per_kind, quick)
        for i, (instruction, code) in enumerate(cases):
            eng.open(f"edit{i}", Document(code))
            texts = {}
            for fmt, dec in decoders.items():
                eng.decoder = dec
                for speculate in (False, True):
                    dec.reset()
                    done, _, _ = await _run(eng, f"edit{i}", f"e{i}{fmt}{speculate}", instruction, (0, len(code)),
                                            s.edit_max_tokens, speculate)
                    st = done.stats
                    texts[fmt, speculate] = done.text
                    if st.tokens_out > 1 and st.decode_tok_s:
                        tok[fmt, speculate] += st.tokens_out - 1
                        secs[fmt, speculate] += (st.tokens_out - 1) / st.decode_tok_s
                    if speculate and fmt == "engine":
                        accepted += st.draft_accepted_tokens
                        proposed += st.draft_proposed_tokens
                same[fmt] &= texts[fmt, True] == texts[fmt, False]
            ref = texts.get(("float32", False))
            for fmt in decoders:
                same_as_float32[fmt] += ref is not None and texts[fmt, False] == ref
        rate = {key: tok[key] / secs[key] if secs[key] else None for key in tok}
        fig = {"edit_cases": len(cases), "edit_tokens": tok["engine", False],
               "speculative_tok_s": rate["engine", True] and round(rate["engine", True], 1),
               "plain_edit_tok_s": rate["engine", False] and round(rate["engine", False], 1),
               "speculative_speedup": _ratio(rate["engine", True], rate["engine", False]),
               "acceptance_rate": round(accepted / proposed, 3) if proposed else 0.0,
               "accepted_draft": accepted, "proposed_draft": proposed,
               "speculative_output_identical": same["engine"],
               "engine_decoder": type(main).__name__, "engine_weights": dict(getattr(main, "modes", None) or {})}
        for fmt in decoders:
            if fmt == "engine":
                continue
            fig[f"speculative_tok_s_{fmt}"] = rate[fmt, True] and round(rate[fmt, True], 1)
            fig[f"plain_edit_tok_s_{fmt}"] = rate[fmt, False] and round(rate[fmt, False], 1)
            fig[f"speculative_speedup_{fmt}"] = _ratio(rate[fmt, True], rate[fmt, False])
            fig[f"speculative_output_identical_{fmt}"] = same[fmt]
            fig[f"edit_output_same_as_float32_{fmt}"] = round(same_as_float32[fmt] / len(cases), 3) if cases else None
        return fig
    finally:
        eng.decoder = main
        eng.close()


def _long_context_model(spec: ModelSpec, file_tokens: int) -> ModelSpec:
    if spec.file_context and spec.context_length >= file_tokens + 256:
        return spec
    return load_spec(MODELS_DIR / "tiny-random")


async def ttft_and_stop_figures(spec: ModelSpec, s: BenchSizes) -> dict:
    from ..decode.session import Document

    mspec = _long_context_model(spec, s.ttft_file_tokens)
    text, selection = long_file(mspec, s.ttft_file_tokens)
    eng = _engine(mspec.folder)
    instruction = "add a docstring"
    try:
        cold, warm, prefill_ms = [], [], []
        for r in range(s.repeats + 1):  # the first round warms up
            eng.decoder.reset()
            eng.open("cold", Document(text))
            done, _, _ = await _run(eng, "cold", f"c{r}", instruction, selection, 1, False)
            cold.append(done.stats.ttft_ms)
            prefill_ms.append(done.stats.prefill_ms)
            eng.decoder.reset()
            eng.open("warm", Document(text, selection=selection))
            await eng.prewarm("warm")  # happens while the user types the instruction
            done, _, _ = await _run(eng, "warm", f"w{r}", instruction, selection, 1, False)
            warm.append(done.stats.ttft_ms)
        prompt_tokens = done.stats.prompt_tokens
        fig = {"ttft_model": mspec.name, "ttft_prompt_tokens": prompt_tokens,
               "ttft_cold_ms": round(statistics.median(cold[1:]), 3),
               "ttft_prewarmed_ms": round(statistics.median(warm[1:]), 3)}
        fig["ttft_prewarmed_ratio"] = _ratio(fig["ttft_prewarmed_ms"], fig["ttft_cold_ms"])
        chunks = -(-prompt_tokens // 128)
        fig["prefill_chunk_ms"] = round(statistics.median(prefill_ms[1:]) / chunks, 3)

        decode_stop, prefill_stop, after, done_tok_s = [], [], [], None
        eng.open("stop", Document(text))
        for r in range(s.stop_trials):
            eng.decoder.reset()
            done, lat, extra = await _run(eng, "stop", f"sd{r}", instruction, selection, mspec.context_length,
                                          False, stop_after_tokens=8)
            if lat is not None:
                decode_stop.append(lat)
                after.append(extra)
                done_tok_s = done.stats.decode_tok_s or done_tok_s
            eng.decoder.reset()
            done, lat, _ = await _run(eng, "stop", f"sp{r}", instruction, selection, 4, False,
                                   stop_after_s=fig["prefill_chunk_ms"] * 1.5e-3)
            if lat is not None and done.stats.ttft_ms is None:  # stopped inside the prefill
                prefill_stop.append(lat)
        fig.update(stop_model=mspec.name, stop_decode_step_ms=round(1e3 / done_tok_s, 4) if done_tok_s else None,
                   stop_latency_ms=_ms(decode_stop) if decode_stop else None,
                   stop_tokens_after=max(after) if after else None,
                   stop_latency_prefill_ms=_ms(prefill_stop) if prefill_stop else None)
        return fig
    finally:
        eng.close()


def transport_figures(model_dir: Path, s: BenchSizes) -> dict:
    trips = peers.round_trips(model_dir, s.round_trips, chunk=min(25, s.round_trips))
    fig = {"ws_overhead_ms": _ms(trips["ws"]), "http_overhead_ms": _ms(trips["http"])}
    fig["ws_overhead_reduction"] = round(1 - fig["ws_overhead_ms"] / fig["http_overhead_ms"], 3)
    # The same round trip on an engine without the HTTP front (native protocol only): the front's cost.
    fig["ws_native_only_overhead_ms"] = _ms(trips["ws_native_only"])
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
