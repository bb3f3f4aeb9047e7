"""Bench sections 2, 3 and 6, through the engine as it serves (sessions, jobs, the release of events).

2. the edit suite: effective tok/s with predicted-output speculation on vs off, acceptance rate,
   identical output check (and, in a full run, every weight format alone);
3. TTFT for a long file, cold vs prewarmed (on a model whose context holds it);
6. stop latency (stop sent → ``done``) during decode and during a long prefill.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from .sizes import BenchSizes, median_ms, ratio
from .suite import edit_cases, long_file
from ..model.fastrunner import WEIGHT_FORMATS, FastDecoder
from ..model.modelspec import MODELS_DIR, ModelSpec, load_spec


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
               "speculative_speedup": ratio(rate["engine", True], rate["engine", False]),
               "acceptance_rate": round(accepted / proposed, 3) if proposed else 0.0,
               "accepted_draft": accepted, "proposed_draft": proposed,
               "speculative_output_identical": same["engine"],
               "engine_decoder": type(main).__name__, "engine_weights": dict(getattr(main, "modes", None) or {})}
        for fmt in decoders:
            if fmt == "engine":
                continue
            fig[f"speculative_tok_s_{fmt}"] = rate[fmt, True] and round(rate[fmt, True], 1)
            fig[f"plain_edit_tok_s_{fmt}"] = rate[fmt, False] and round(rate[fmt, False], 1)
            fig[f"speculative_speedup_{fmt}"] = ratio(rate[fmt, True], rate[fmt, False])
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
        fig["ttft_prewarmed_ratio"] = ratio(fig["ttft_prewarmed_ms"], fig["ttft_cold_ms"])
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
                   stop_latency_ms=median_ms(decode_stop) if decode_stop else None,
                   stop_tokens_after=max(after) if after else None,
                   stop_latency_prefill_ms=median_ms(prefill_stop) if prefill_stop else None)
        return fig
    finally:
        eng.close()
