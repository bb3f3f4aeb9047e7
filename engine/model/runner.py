"""The ONNX decoder runner: owns the ORT session and the KV cache.

Works with any decoder-only export in the Hugging Face Optimum layout (``input_ids``,
``attention_mask``, optional ``position_ids``, ``past_key_values.N.key/value`` → ``logits``,
``present.N.key/value``) plus the extra int64 inputs a model folder declares. One forward call
appends any number of tokens: prefill, single-token decode and k-token verification are the same
operation, and ``rewind`` truncates the cache (speculation, redirect, edited documents).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .hugepages import HugePages
from .modelspec import ModelSpec, load_spec


class ContextOverflow(ValueError):
    """More tokens than the model's context window."""


class Cancelled(Exception):
    """A prefill was aborted between chunks."""


_ORT_FLOAT = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


class Interrupt:
    """A decoder's cancel flag, set from any thread: it also aborts an ONNX Runtime call already
    running (``RunOptions.terminate``, checked between kernels), so a stop does not wait for a long
    prefill chunk or a verify pass to finish. The decoder raises :class:`Cancelled`."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.run_options = ort.RunOptions()

    def set(self) -> None:
        self._event.set()
        self.run_options.terminate = True

    def clear(self) -> None:
        self._event.clear()
        self.run_options.terminate = False

    def is_set(self) -> bool:
        return self._event.is_set()


def session_options(threads: int = 1) -> ort.SessionOptions:
    so = ort.SessionOptions()
    # One intra-op thread is fastest for batch-1 decode on small CPUs (measured on 2 cores).
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return so


class OnnxDecoder:
    """A decoder with a single-sequence KV cache. Not thread-safe: use it from one thread."""

    def __init__(self, model: str | Path | ModelSpec, threads: int = 1):
        self.spec = model if isinstance(model, ModelSpec) else load_spec(model)
        try:
            with HugePages() as self.huge_pages:  # the weights on 2 MiB pages, collapsed in the background
                self.session = ort.InferenceSession(str(self.spec.onnx_path), session_options(threads),
                                                    providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own exception types for bad graphs
            raise ValueError(f"{self.spec.onnx_path}: cannot load ONNX model: {exc}") from None
        inputs = {i.name: i for i in self.session.get_inputs()}
        for need in ("input_ids", "attention_mask"):
            if need not in inputs:
                raise ValueError(f"{self.spec.onnx_path}: graph has no '{need}' input")
        self._has_positions = "position_ids" in inputs
        self._past_names = sorted((n for n in inputs if n.startswith("past_key_values.")),
                                  key=lambda n: (int(n.split(".")[1]), n))
        self._present_for = {n: n.replace("past_key_values.", "present.") for n in self._past_names}
        outputs = [o.name for o in self.session.get_outputs()]
        if "logits" not in outputs or any(p not in outputs for p in self._present_for.values()):
            raise ValueError(f"{self.spec.onnx_path}: outputs must be logits and present.N.key/value")
        self._out_names = ["logits", *self._present_for.values()]
        missing_extra = [n for n in self.spec.extra_inputs if n not in inputs]
        if missing_extra:
            raise ValueError(f"tessera.json names extra inputs the graph lacks: {missing_extra}")
        cfg = self.spec.config
        self._kv_dtype = _ORT_FLOAT.get(inputs[self._past_names[0]].type, np.float32) if self._past_names else np.float32
        self._kv_shape = (1, cfg.num_key_value_heads, 0, cfg.head_dim)
        self.cancel = Interrupt()  # set from any thread to abort a running forward or prefill
        self.reset()

    @property
    def context_length(self) -> int:
        return self.spec.context_length

    def reset(self) -> None:
        self._past = {n: np.zeros(self._kv_shape, self._kv_dtype) for n in self._past_names}
        self.tokens: list[int] = []  # token ids currently in the cache, in order
        self.features: dict[str, list[int]] = {n: [] for n in self.spec.extra_inputs}  # extra inputs per cached position

    @property
    def length(self) -> int:
        return len(self.tokens)

    def rewind(self, length: int) -> None:
        """Keep only the first `length` cached tokens."""
        if length >= self.length:
            return
        length = max(0, length)
        self._past = {n: np.ascontiguousarray(v[:, :, :length]) for n, v in self._past.items()}
        self.tokens = self.tokens[:length]
        for rows in self.features.values():
            del rows[length:]

    def forward(self, ids: list[int], extra: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Append `ids` to the cache; return their logits [len(ids), vocab] (float32)."""
        n = len(ids)
        start = self.length
        check_room(start, n, self.context_length)
        feeds: dict[str, np.ndarray] = {
            "input_ids": np.asarray(ids, dtype=np.int64).reshape(1, n),
            "attention_mask": np.ones((1, start + n), dtype=np.int64),
        }
        if self._has_positions:
            feeds["position_ids"] = np.arange(start, start + n, dtype=np.int64).reshape(1, n)
        for name in self.spec.extra_inputs:
            values = None if extra is None else extra.get(name)
            if values is None:
                raise ValueError(f"extra input {name!r} is required by this model")
            feeds[name] = np.asarray(values, dtype=np.int64).reshape(1, n)
        feeds.update(self._past)
        try:
            outs = self.session.run(self._out_names, feeds, self.cancel.run_options)
        except Exception:
            if self.cancel.is_set():  # aborted between kernels by a stop: the cache is unchanged
                raise Cancelled() from None
            raise
        for name, value in zip(self._past_names, outs[1:]):
            self._past[name] = value
        self.tokens.extend(int(t) for t in ids)
        for name, rows in self.features.items():
            rows.extend(int(v) for v in feeds[name].ravel())
        return outs[0][0].astype(np.float32, copy=False)

    def forward_greedy(self, ids: list[int], extra: dict[str, np.ndarray] | None = None) -> list[int]:
        """Append `ids` to the cache; return the greedy choice (argmax of logits + ban bias) after each."""
        ban = self.spec.ban_bias
        self._rows = self.forward(ids, extra)
        return [int(np.argmax(row + ban)) for row in self._rows]

    def row_logits(self, i: int) -> np.ndarray:
        """Row `i` of the last forward_greedy's logits."""
        return self._rows[i]

    def prefill(self, ids: list[int], extra: dict[str, np.ndarray] | None = None, chunk: int = 128) -> np.ndarray:
        """Forward a long prompt in chunks, checking `cancel` between them; return the last logits."""
        logits = None
        for s in range(0, len(ids), chunk):
            if self.cancel.is_set():
                raise Cancelled()
            part = None if extra is None else {k: v[s:s + chunk] for k, v in extra.items()}
            logits = self.forward(ids[s:s + chunk], part)
        if logits is None:
            raise ValueError("prefill needs at least one token")
        return logits[-1]

    def common_prefix(self, ids: list[int], extra: dict[str, np.ndarray] | None = None) -> int:
        """How many leading positions of `ids` (with their extra inputs) the cache already holds."""
        return cached_prefix(self.tokens, self.features, ids, extra)


def check_room(start: int, n: int, context_length: int) -> None:
    """`n` more tokens after `start` cached ones: at least one, and within the context."""
    if n == 0:
        raise ValueError("forward needs at least one token")
    if start + n > context_length:
        raise ContextOverflow(f"{start + n} tokens exceed the model's context of {context_length}")


def cached_prefix(tokens: list[int], features: dict[str, list[int]], ids: list[int],
                  extra: dict[str, np.ndarray] | None = None) -> int:
    """Length of the common prefix of a cache and a new input, comparing tokens and extra inputs."""
    n = min(len(ids), len(tokens))
    diff = np.asarray(tokens[:n], dtype=np.int64) != np.asarray(ids[:n], dtype=np.int64)
    for name, rows in features.items():
        want = None if extra is None else extra.get(name)
        if want is None:
            return 0
        diff |= np.asarray(rows[:n], dtype=np.int64) != np.asarray(want[:n], dtype=np.int64)
    hits = np.flatnonzero(diff)
    return int(hits[0]) if hits.size else n
