"""The decode loops ``tessera-engine bench`` compares, and how it runs them side by side."""

from __future__ import annotations

import time

import numpy as np

from ..model.fastrunner import FastDecoder
from ..model.modelspec import ModelSpec


def fast_loop(dec: FastDecoder, prompt: list[int], steps: int):
    """A callable timing one greedy run of the fast loop: (seconds per step, tokens chosen)."""
    zeros = {n: np.zeros(len(prompt), np.int64) for n in dec.spec.extra_inputs} or None
    step_extra = {n: np.zeros(1, np.int64) for n in dec.spec.extra_inputs} or None

    def run() -> tuple[float, list[int]]:
        dec.reset()
        tok = int(np.argmax(dec.prefill(prompt, zeros) + dec.spec.ban_bias))
        tokens = []
        t0 = time.perf_counter()
        for _ in range(steps):
            tokens.append(tok)
            tok = dec.forward_greedy([tok], step_extra)[0]
        return (time.perf_counter() - t0) / steps, tokens

    return run


def naive_loop(spec: ModelSpec, prompt: list[int], steps: int):
    """A callable timing one greedy run of a plain ``session.run`` loop on the Optimum-layout graph."""
    import onnxruntime as ort

    from ..model.runner import session_options

    sess = ort.InferenceSession(str(spec.onnx_path), session_options(1), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    past_names = [n for n in names if n.startswith("past_key_values.")]
    cfg = spec.config

    def run() -> float:
        past = {n: np.zeros((1, cfg.num_key_value_heads, 0, cfg.head_dim), np.float32) for n in past_names}
        ids, t0, n_in = list(prompt), 0.0, len(prompt)
        for step in range(steps + 1):
            if step == 1:
                t0 = time.perf_counter()
            total = len(ids)
            feeds = {"input_ids": np.asarray([ids[total - n_in:]], np.int64),
                     "attention_mask": np.ones((1, total), np.int64),
                     "position_ids": np.arange(total - n_in, total, dtype=np.int64)[None],
                     **{n: np.zeros((1, n_in), np.int64) for n in spec.extra_inputs}, **past}
            outs = sess.run(None, {k: v for k, v in feeds.items() if k in names})
            past = {n: o for n, o in zip(past_names, outs[1:])}
            ids.append(int(np.argmax(outs[0][0, -1])))
            n_in = 1
        return (time.perf_counter() - t0) / steps

    return run


def interleaved(runs: dict, repeats: int) -> dict[str, list]:
    """Run each callable once per round, round after round, so load changes hit all alike.

    The first round warms up and is dropped. Returns name → results of the kept rounds.
    """
    out: dict[str, list] = {name: [] for name in runs}
    for r in range(repeats + 1):
        for name, fn in runs.items():
            value = fn()
            if r:
                out[name].append(value)
    return out
