"""Step ``evaluate``: greedy edits of held-out functions through the decoder the engine picks
(``engine.model.fastrunner.make_decoder``: the fused graph in the engine's weight format, else
``engine.model.runner.OnnxDecoder``) with ``engine.model.align`` and ``engine.model.prompts``, scored per kind. When
the engine's format is not float32, every edit is decoded once more with float32 weights and the
share of identical texts is reported (``same_text_as_float32``).

exact: the output is AST-equal to the expected edit (for out-of-scope: to the unchanged source);
parses: ``ast.parse`` accepts the output; routed: the skills in tessera.json send the instruction
to the right skill (None for out-of-scope). Decode speed is tokens after the first divided by the
time of the single-token steps (prefill excluded), median over examples, one thread.
"""

from __future__ import annotations

import ast
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..model.align import make_aligner
from ..model.modelspec import load_spec
from ..model.prompts import build_edit_prompt
from ..model.runner import OnnxDecoder
from .data import read_jsonl
from ..skills import KINDS


def ast_equal(a: str, b: str) -> bool:
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return False


def parses(code: str) -> bool:
    try:
        ast.parse(code)
        return True
    except SyntaxError:
        return False


def greedy_edit(dec: OnnxDecoder, instruction: str, code: str, max_new: int = 400) -> tuple[str, int, float]:
    """(output text, tokens generated, seconds spent in single-token steps)."""
    spec = dec.spec
    prompt = build_edit_prompt(spec.tokenizer, spec.special, instruction, code)
    al = make_aligner(spec.aligner or {}, prompt.source_ids, prompt.instruction_ids)
    dec.reset()
    logits = dec.prefill(prompt.ids, al.prompt_features(len(prompt.ids)))
    out: list[int] = []
    room = min(max_new, spec.context_length - len(prompt.ids))
    t_steps = 0.0
    while len(out) < room:
        tok = int(np.argmax(logits))
        if tok in spec.eos_ids:
            break
        out.append(tok)
        if len(out) >= room:
            break
        t = time.perf_counter()
        al.push(tok)
        feats = {k: np.asarray([v], np.int64) for k, v in al.next_features().items()}
        logits = dec.forward([tok], feats)[-1]
        t_steps += time.perf_counter() - t
    return spec.tokenizer.decode(out), len(out), t_steps


def engine_decoder(spec):
    """The decoder the engine picks for this folder: the fused graph when it supports it."""
    from ..model.fastrunner import make_decoder, use_for

    dec = make_decoder(spec, threads=1)
    use_for(dec, speculate=False)  # greedy_edit decodes one token per step: the plain mode's format
    return dec


def float32_twin(dec):
    """A float32 FastDecoder when `dec` runs another weight format (None otherwise)."""
    from ..model.fastrunner import FastDecoder

    if getattr(dec, "weights", "float32") == "float32":
        return None
    return FastDecoder(dec.spec, threads=1, weights="float32")


def plain_speed(spec, pairs, n: int = 30) -> float:
    """Median single-token decode rate of the plain graph (engine.model.runner.OnnxDecoder)."""
    dec = OnnxDecoder(spec, threads=1)
    rates = []
    for p in pairs[:n]:
        _, n_tok, t_steps = greedy_edit(dec, p.instruction, p.source)
        if n_tok > 20 and t_steps > 0:
            rates.append((n_tok - 1) / t_steps)
    return statistics.median(rates) if rates else 0.0


def engine_speed(model_dir: Path, by_kind: dict, per_kind: int = 10) -> dict:
    """Edits through the engine itself (``engine.decode.session.Engine``: prompt, aligner, decoder choice,
    speculation), as ``tessera-engine generate`` runs them: median tok/s and exact matches."""
    import asyncio

    from ..decode.sampling import SamplingParams
    from ..backends.edit_stream import stream_edit
    from ..decode.session import Document, Engine

    async def one(engine, i: int, p) -> tuple[float, bool]:
        engine.open(f"eval{i}", Document(p.source))
        job = engine.make_job(f"eval{i}", f"r{i}", p.instruction, None, None, SamplingParams(0.0, 1.0, 0),
                              speculate=True)
        done = None
        async for ev in stream_edit(engine, job):
            if ev.type == "done":
                done = ev
        return float(done.stats.decode_tok_s), ast_equal(done.text, p.target)

    engine = Engine(model_dir, threads=1)
    engine.warmup()
    rates, exact, n = [], 0, 0
    try:
        for kind in KINDS:
            for i, p in enumerate(by_kind[kind][:per_kind]):
                tok_s, good = asyncio.run(one(engine, n, p))
                rates.append(tok_s)
                exact += good
                n += 1
    finally:
        engine.close()
    return {"n": n, "tok_s_median": round(statistics.median(rates)) if rates else 0,
            "exact": exact / max(n, 1)}


def run(cache: Path, model_dir: Path, per_kind: int = 200, log=print, write: bool = True) -> dict:
    spec = load_spec(model_dir)
    dec = engine_decoder(spec)
    pairs = read_jsonl(cache / "eval.jsonl")
    by_kind = defaultdict(list)
    for p in pairs:
        if len(by_kind[p.kind]) < per_kind:
            by_kind[p.kind].append(p)
    results, rates, failures = {}, [], []
    ref = float32_twin(dec)
    same_f32 = total = 0
    for kind in KINDS:
        n = exact = ok = routed = 0
        for p in by_kind[kind]:
            text, n_tok, t_steps = greedy_edit(dec, p.instruction, p.source)
            n += 1
            good = ast_equal(text, p.target)
            exact += good
            total += 1
            if ref is not None:
                same_f32 += greedy_edit(ref, p.instruction, p.source)[0] == text
            ok += parses(text)
            skill = spec.skill_for(p.instruction)
            # "rename OLD to NEW" names no kind; the rename_variable skill serves functions as well
            accept = {kind, "rename_variable"} if kind == "rename_function" else {kind}
            routed += (skill is None) if kind == "out_of_scope" else (skill is not None and skill.name in accept)
            if n_tok > 20 and t_steps > 0:
                rates.append((n_tok - 1) / t_steps)
            if not good and len(failures) < 60:
                failures.append({"kind": kind, "instruction": p.instruction, "source": p.source,
                                 "expected": p.target, "got": text})
        results[kind] = {"n": n, "exact": exact / max(n, 1), "parses": ok / max(n, 1), "routed": routed / max(n, 1)}
        log(f"{kind:16s} n={n:4d} exact {100 * exact / max(n, 1):5.1f}%  parses {100 * ok / max(n, 1):5.1f}%")
    tok_s = statistics.median(rates) if rates else 0.0
    plain = plain_speed(spec, pairs)
    try:
        through_engine = engine_speed(model_dir, by_kind)
    except Exception as exc:  # the engine is another module's; report rather than lose the evaluation
        through_engine = {"error": repr(exc)}
    log(f"through the engine: {through_engine}")
    weights = getattr(dec, "weights", "float32")
    if ref is not None:
        log(f"{weights} weights: same text as float32 in {same_f32}/{total} edits")
    report = {"per_kind": results, "decoder": type(dec).__name__, "weights": weights,
              "same_text_as_float32": round(same_f32 / max(total, 1), 4) if ref is not None else None,
              "decode_tok_s_median": round(tok_s),
              "plain_graph_tok_s_median": round(plain), "engine": through_engine, "threads": 1}
    log(f"decode: median {tok_s:.0f} tok/s with {type(dec).__name__}, {plain:.0f} tok/s plain graph "
        "(single-token steps, 1 thread)")
    if write:
        (cache / "evaluation.json").write_text(json.dumps(report, indent=1) + "\n")
        (cache / "eval_failures.json").write_text(json.dumps(failures, indent=1) + "\n")
    return report
