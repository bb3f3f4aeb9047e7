"""Foreign graphs with GroupQueryAttention (onnxruntime-genai's builder), run with a bound KV cache.

GroupQueryAttention writes a step's keys and values in place when its past and present tensors
are the same buffer, so the cache is one preallocated buffer per layer and name, sized to the
context a request reaches, bound as both past and present (no O(T) concatenation per token, as in
:mod:`engine.model.fastrunner`). The buffers start at ``INITIAL_CAPACITY`` tokens (at least the sliding
window: the kernel refuses a smaller cache for a local-attention layer) and double when a call
would pass their end, up to the model's context, so a 32k-context model does not hold 32k tokens of
cache for a 300-token edit. ``rewind`` only moves the length.

Per call the graph gets ``input_ids`` and an all-ones ``attention_mask`` of the cached length
(the graph derives ``seqlens_k`` and the total length from it); logits land in a preallocated
array per call shape. Same interface as :class:`engine.model.runner.OnnxDecoder`.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort

from .hugepages import HugePages
from .modelspec import ModelSpec
from .runner import _ORT_FLOAT, Cancelled, Interrupt, cached_prefix, check_room, session_options


INITIAL_CAPACITY = 1024  # tokens of KV cache allocated at load; doubled on demand


def graph_summary(path) -> tuple[set[str], set[str]]:
    """(operator types, input names) of a graph, read without its weights (external data stays on disk)."""
    model = onnx.load(str(path), load_external_data=False)
    return {n.op_type for n in model.graph.node}, {i.name for i in model.graph.input}


def bindable(spec: ModelSpec) -> bool:
    """A foreign graph whose attention is GroupQueryAttention with past_key_values inputs."""
    if spec.chat is None or spec.extra_inputs:
        return False
    try:
        ops, inputs = graph_summary(spec.onnx_path)
    except Exception:  # unreadable: the plain runner reports it
        return False
    return ("GroupQueryAttention" in ops and "past_key_values.0.key" in inputs
            and {"input_ids", "attention_mask"} <= inputs)


class BoundDecoder:
    """A single-sequence decoder on a GQA graph with a preallocated, bound KV cache. One thread."""

    def __init__(self, spec: ModelSpec, threads: int = 1):
        self.spec = spec
        try:
            with HugePages() as self.huge_pages:  # the weights on 2 MiB pages, collapsed in the background
                self.session = ort.InferenceSession(str(spec.onnx_path), session_options(threads),
                                                    providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own exception types for bad graphs
            raise ValueError(f"{spec.onnx_path}: cannot load ONNX model: {exc}") from None
        inputs = {i.name: i for i in self.session.get_inputs()}
        logits = next((o for o in self.session.get_outputs() if o.name == "logits"), None)
        if logits is None or logits.type != "tensor(float)":
            raise ValueError(f"{spec.onnx_path}: no float32 'logits' output to bind")
        self._has_positions = "position_ids" in inputs
        past = sorted((n for n in inputs if n.startswith("past_key_values.")),
                      key=lambda n: (int(n.split(".")[1]), n))
        self._past_names = past
        self._kv_dtype = _ORT_FLOAT.get(inputs[past[0]].type, np.float32)
        self._kv_arrays: list[np.ndarray] = []  # the buffers, one per past name, [1, kv heads, capacity, head]
        self._cap = 0  # cache capacity in tokens
        self._mask = np.ones((1, self.context_length), np.int64)
        self._positions = np.arange(self.context_length, dtype=np.int64).reshape(1, -1)
        self._logits: dict[int, np.ndarray] = {}  # tokens per call → [1, n, vocab] output buffer
        self._binding = self.session.io_binding()
        self._grow(min(self.context_length, max(INITIAL_CAPACITY, spec.sliding_window or 0)))
        self._ids = np.zeros((1, 1), np.int64)
        self.cancel = Interrupt()  # set from any thread to abort a running forward or prefill
        self.tokens: list[int] = []  # token ids currently in the cache, in order
        self.features: dict[str, list[int]] = {}  # foreign graphs take no extra inputs

    @property
    def context_length(self) -> int:
        return self.spec.context_length

    def _grow(self, capacity: int) -> None:
        """(Re)allocate the KV buffers with room for `capacity` tokens, keeping the cached ones."""
        cfg = self.spec.config
        n = len(getattr(self, "tokens", []))
        arrays, values = [], []
        for j, name in enumerate(self._past_names):
            arr = np.zeros((1, cfg.num_key_value_heads, capacity, cfg.head_dim), self._kv_dtype)
            if self._kv_arrays and n:
                arr[:, :, :n] = self._kv_arrays[j][:, :, :n]
            arrays.append(arr)
            ov = ort.OrtValue.ortvalue_from_numpy(arr)
            values.append(ov)
            self._binding.bind_ortvalue_input(name, ov)
            self._binding.bind_ortvalue_output(name.replace("past_key_values.", "present."), ov)
        self._kv_arrays, self._kv_values, self._cap = arrays, values, capacity

    @property
    def length(self) -> int:
        return len(self.tokens)

    def reset(self) -> None:
        self.tokens = []  # stale buffer entries are never read past the current length

    def rewind(self, length: int) -> None:
        if length < len(self.tokens):
            del self.tokens[max(0, length):]

    def forward(self, ids: list[int], extra=None) -> np.ndarray:
        """Append `ids` to the cache; return their logits [len(ids), vocab] (a view, valid until the next call)."""
        n = len(ids)
        start = len(self.tokens)
        check_room(start, n, self.context_length)
        if start + n > self._cap:
            self._grow(min(self.context_length, max(2 * self._cap, start + n)))
        b = self._binding
        ids_arr = self._ids if n == 1 else np.asarray(ids, dtype=np.int64).reshape(1, n)
        if n == 1:
            ids_arr[0, 0] = ids[0]
        b.bind_cpu_input("input_ids", ids_arr)
        b.bind_cpu_input("attention_mask", self._mask[:, :start + n])
        if self._has_positions:
            b.bind_cpu_input("position_ids", self._positions[:, start:start + n])
        out = self._logits.get(n)
        if out is None:
            out = self._logits[n] = np.zeros((1, n, self.spec.config.vocab_size), np.float32)
            if len(self._logits) > 8:  # prefill chunk shapes come and go: keep the step's
                for k in [k for k in self._logits if k not in (1, n)][:1]:
                    del self._logits[k]
        b.bind_output("logits", "cpu", element_type=np.float32, shape=out.shape, buffer_ptr=out.ctypes.data)
        try:
            self.session.run_with_iobinding(b, self.cancel.run_options)
        except Exception:
            if self.cancel.is_set():
                raise Cancelled() from None
            raise
        self.tokens.extend(int(t) for t in ids)
        return out[0]

    def forward_greedy(self, ids: list[int], extra=None) -> list[int]:
        ban = self.spec.ban_bias
        self._rows = self.forward(ids, extra)
        return [int(np.argmax(row + ban)) for row in self._rows]

    def row_logits(self, i: int) -> np.ndarray:
        """Row `i` of the last forward_greedy's logits (a view, valid until the next call)."""
        return self._rows[i]

    def prefill(self, ids: list[int], extra=None, chunk: int = 128) -> np.ndarray:
        logits = None
        for s in range(0, len(ids), chunk):
            if self.cancel.is_set():
                raise Cancelled()
            logits = self.forward(ids[s:s + chunk])
        if logits is None:
            raise ValueError("prefill needs at least one token")
        return logits[-1].copy()

    def common_prefix(self, ids: list[int], extra=None) -> int:
        return cached_prefix(self.tokens, self.features, ids, extra)
