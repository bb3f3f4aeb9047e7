"""The fast decoder: the fused graph of :mod:`engine.model.fastgraph`, run with IOBinding.

Same interface as :class:`engine.model.runner.OnnxDecoder` (forward / rewind / reset / tokens / length
/ common_prefix / prefill / cancel / spec / context_length), so the session and the decode loop
use either. What makes it fast, per forward call:

- the KV cache is one preallocated buffer per layer, bound once as both past and present: a step
  writes only its own positions (no O(T) concatenation), and ``rewind`` only moves the length;
- every input and output is a preallocated array bound once per call shape ("slot"), so a decode
  step writes a few integers into numpy arrays and calls ``run_with_iobinding`` — no dict of feeds,
  no output allocation;
- prefill asks the graph for the last position's logits only (the vocabulary projection of the
  other positions is never computed).

The fused graph is built in memory at load time from the folder's ``model.onnx`` initializers,
so a model folder ships one graph. Folders whose initializers lack the names of
:func:`engine.model.graph.weight_names` (foreign exports) are not supported: use ``OnnxDecoder``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from .fastgraph import FastGraphOptions, build_fast_decoder_onnx, weights_from_onnx
from .modelspec import ModelSpec, load_spec
from .runner import Cancelled, Interrupt, cached_prefix, check_room, session_options

# Weight formats: name → bits of (prefill, k-token forward, single-token step); 0 = float32
# MatMul (logits equal the plain graph's), 8/4 = MatMulNBits int8/int4 weights (accuracy level 4:
# int8 activations too). On AVX-512 CPUs without AMX, MatMulNBits beats float32 for one row at a
# time but loses from ~12 rows on (measured: `tessera-engine bench`), so prefill stays float32 in
# every format. A format runs `forward` in one format whatever its length, so speculation (k-token
# verify) and plain decoding (1-token steps) see the same weights; "mixed8" breaks that rule
# (float32 verify, int8 steps) and is measured, not used. The sessions share one KV buffer.
WEIGHT_FORMATS = {"float32": (0, 0, 0), "int8": (0, 8, 8), "int4": (0, 4, 4), "mixed8": (0, 0, 8)}
DEFAULT_WEIGHTS = "float32"  # FastDecoder's own default: logits equal the plain runner's
# What the engine runs (make_decoder), by decode mode; a request runs in one format from start to
# end, so speculation's output equals plain greedy decoding on the same weights.
# - speculative (every edit the app sends): float32. Verifying k drafted tokens in one forward is
#   compute-bound, and float32 MatMul beats MatMulNBits from ~12 rows on (measured: 17 rows 120 vs
#   139 us/row at position 200; edits with drafts 6,000-6,800 vs 4,700-5,100 tok/s).
# - plain (speculation off): int8, 1.7-1.9x faster single steps (a step reads every weight once
#   and is bound by reading them from cache). On the bundled model's 1,200 held-out edits int8 gave
#   the same text as float32 in every edit (`python -m engine.training evaluate`). int4 changed 1
#   edit in 360 and once flipped a near-tie between a k-token verify and single steps (activation
#   rounding amplifies their ~1e-6 differences 16x more than int8 does).
ENGINE_WEIGHTS = {"speculative": "float32", "plain": "int8"}


class CallKind(IntEnum):
    """What a forward call is for; indexes a weight format's bits (`WEIGHT_FORMATS`)."""

    PREFILL = 0  # a chunk of the prompt (one row of logits: the last position's)
    VERIFY = 1  # the pending token plus k drafted ones, checked in one pass (a row per position)
    STEP = 2  # one token: plain decoding


MAX_SLOTS = 48  # call shapes kept bound at once: 1-token steps, every k-token verify (k ≤ 32), prefill chunks


@dataclass
class _Slot:
    """Preallocated inputs and outputs for one call shape, bound once to an IOBinding."""

    binding: ort.IOBinding  # inputs, outputs and the shared KV buffers, all bound
    run: object  # the session's run_with_iobinding for this slot's graph
    ids: np.ndarray  # int64 [1, new tokens, 1 + extras]: token id, then offset extra ids
    seqlens_k: np.ndarray  # int32 [1]: tokens in the cache after this call - 1
    total: np.ndarray  # int32 scalar: tokens in the cache after this call
    logits: np.ndarray  # float32 [1, rows, vocab], written by the session
    next_ids: np.ndarray  # int64 [1, rows]: argmax(logits + the model's ban bias), by the session
    step_ids: np.ndarray | None = None  # flat view of `ids` for one-token calls (one write per step)
    total_flat: np.ndarray | None = None  # 1-element view of `total`


def _read_model(spec: ModelSpec) -> onnx.ModelProto:
    return onnx.load(str(spec.onnx_path), load_external_data=True)


class FastDecoder:
    """A single-sequence decoder on the fused graph. Not thread-safe: use it from one thread."""

    def __init__(self, model: str | Path | ModelSpec, threads: int = 1, weights: str = DEFAULT_WEIGHTS,
                 also: tuple[str, ...] = ()):
        """`weights`: the format `forward` runs in; `also`: formats `use` can switch to later (their
        sessions are built now and share the KV buffer, so the cache survives a switch)."""
        self.spec = model if isinstance(model, ModelSpec) else load_spec(model)
        cfg = self.spec.config
        for name in (weights, *also):
            if name not in WEIGHT_FORMATS:
                raise ValueError(f"unknown weight format {name!r}; one of {sorted(WEIGHT_FORMATS)}")
        if cfg.head_dim % 16 or cfg.num_attention_heads % cfg.num_key_value_heads:
            raise ValueError(f"{self.spec.name}: the fused attention needs head_dim % 16 == 0 and whole "
                             f"query groups (head_dim {cfg.head_dim}); use OnnxDecoder")
        try:
            named = weights_from_onnx(_read_model(self.spec), cfg, self.spec.extra_inputs)
        except KeyError as exc:
            raise ValueError(f"{self.spec.onnx_path}: no initializer {exc}; not a Tessera-built graph") from None
        self._extra_rows = {n: named[f"embed_extra.{n}"].shape[0] for n in self.spec.extra_inputs}
        sessions = {}
        for bits in sorted({b for name in (weights, *also) for b in WEIGHT_FORMATS[name]}):
            opts = FastGraphOptions(max_length=self.context_length, quant_bits=bits, greedy_bias=self.spec.ban_bias)
            graph = build_fast_decoder_onnx(named, cfg, self.spec.extra_inputs, opts)
            try:
                sessions[bits] = ort.InferenceSession(graph.SerializeToString(), session_options(threads),
                                                      providers=["CPUExecutionProvider"])
            except Exception as exc:  # ORT raises its own exception types for bad graphs
                raise ValueError(f"{self.spec.onnx_path}: cannot build the fused graph: {exc}") from None
        del named
        self._bits_sessions = sessions  # weight bits → session
        self.modes: dict[str, str] | None = None  # decode mode → format, set by make_decoder
        self.use(weights)
        shape = (1, cfg.num_key_value_heads, self.context_length, cfg.head_dim)
        self._kv: dict[str, ort.OrtValue] = {}  # past name → shared past/present buffer
        self._kv_arrays: list[np.ndarray] = []  # keeps the buffers' memory alive
        for i in range(cfg.num_hidden_layers):
            for kind in ("key", "value"):
                arr = np.zeros(shape, np.float32)
                self._kv_arrays.append(arr)
                self._kv[f"past_key_values.{i}.{kind}"] = ort.OrtValue.ortvalue_from_numpy(arr)
        # Row offset of each extra table in the graph's stacked embedding table.
        sizes = [cfg.vocab_size] + [self._extra_rows[n] for n in self.spec.extra_inputs]
        self._extra_offsets = np.cumsum(sizes)[:-1].tolist()
        self._extra_limits = sizes[1:]  # rows of each extra table
        self._vocab = cfg.vocab_size
        self._slots: OrderedDict[tuple[int, int, int], _Slot] = OrderedDict()  # (tokens, rows, bits)
        self.cancel = Interrupt()  # set from any thread to abort a running forward or prefill
        self.tokens: list[int] = []  # token ids currently in the cache, in order
        # Extra inputs per cached position (the prefix cache compares them too), one column each.
        self._features = np.zeros((self.context_length, len(self.spec.extra_inputs)), np.int64)

    @property
    def formats(self) -> list[str]:
        """The weight formats whose sessions this decoder holds (`use` switches between them)."""
        return [name for name, bits in WEIGHT_FORMATS.items() if set(bits) <= set(self._bits_sessions)]

    def use(self, weights: str) -> None:
        """Run later calls in another held format; the KV cache and its tokens stay valid."""
        if weights not in self.formats:
            raise ValueError(f"weight format {weights!r} was not loaded (loaded: {self.formats})")
        self.weights = weights  # a WEIGHT_FORMATS name
        self._bits = WEIGHT_FORMATS[weights]  # weight bits by CallKind (prefill, verify, step)

    @staticmethod
    def supports(spec: ModelSpec) -> bool:
        """Whether the folder's graph carries the named weights the fused graph is built from."""
        if spec.chat is not None:  # a foreign export (chat template, no tessera.json): not our layout,
            return False  # and its weights may be gigabytes: do not read them to find that out
        try:
            weights_from_onnx(_read_model(spec), spec.config, spec.extra_inputs)
        except Exception:  # missing names, wrong shapes, unreadable file: fall back to OnnxDecoder
            return False
        cfg = spec.config
        # GroupQueryAttention's CPU kernel requires head_size % 16 == 0 (ORT 1.31).
        return cfg.num_attention_heads % cfg.num_key_value_heads == 0 and cfg.head_dim % 16 == 0

    @property
    def context_length(self) -> int:
        return self.spec.context_length

    @property
    def length(self) -> int:
        return len(self.tokens)

    @property
    def features(self) -> dict[str, np.ndarray]:
        """Extra inputs of the cached positions, by name (views, valid until the next call)."""
        n = len(self.tokens)
        return {name: self._features[:n, j] for j, name in enumerate(self.spec.extra_inputs)}

    def reset(self) -> None:
        # The buffers keep stale entries; attention never reads past the current length.
        self.tokens = []

    def rewind(self, length: int) -> None:
        """Keep only the first `length` cached tokens (the buffer itself is left as it is)."""
        if length < len(self.tokens):
            del self.tokens[max(0, length):]

    def _slot(self, n: int, rows: int, kind: CallKind) -> _Slot:
        bits = self._bits[kind]
        key = (n, rows, bits)
        slot = self._slots.get(key)
        if slot is not None:
            if n != 1:  # step slots are used every token: skip the LRU bookkeeping
                self._slots.move_to_end(key)
            return slot
        session = self._bits_sessions[bits]
        b = session.io_binding()
        ids = np.zeros((1, n, 1 + len(self.spec.extra_inputs)), np.int64)
        seqlens = np.zeros(1, np.int32)
        total = np.zeros((), np.int32)
        logits = np.zeros((1, rows, self.spec.config.vocab_size), np.float32)
        next_ids = np.zeros((1, rows), np.int64)
        id_input = ("embed_rows", ids) if self.spec.extra_inputs else ("input_ids", ids.reshape(1, n))
        feeds = {id_input[0]: id_input[1],
                 "seqlens_k": seqlens, "total_sequence_length": total,
                 "logits_start": np.array([-rows], np.int64)}
        keep = []  # OrtValues wrap the arrays' memory; the arrays outlive them through the slot
        for name, arr in feeds.items():
            ov = ort.OrtValue.ortvalue_from_numpy(arr)
            keep.append(ov)
            b.bind_ortvalue_input(name, ov)
        b.bind_ortvalue_output("logits", ort.OrtValue.ortvalue_from_numpy(logits))
        b.bind_ortvalue_output("next_ids", ort.OrtValue.ortvalue_from_numpy(next_ids))
        for past, ov in self._kv.items():
            b.bind_ortvalue_input(past, ov)
            b.bind_ortvalue_output(past.replace("past_key_values.", "present."), ov)
        # Calling the bound C++ method directly skips the Python wrapper on every call.
        slot = _Slot(b, session._sess.run_with_iobinding, ids, seqlens, total, logits, next_ids,
                     ids.reshape(-1) if n == 1 else None, total.reshape(1))
        slot._keep = keep  # type: ignore[attr-defined]
        self._slots[key] = slot
        while len(self._slots) > MAX_SLOTS:
            oldest = next(iter(self._slots))
            if oldest[0] == 1:  # step slots stay bound
                self._slots.move_to_end(oldest)
                continue
            del self._slots[oldest]
        return slot

    def _run(self, slot: _Slot) -> None:
        try:
            slot.run(slot.binding._iobinding, self.cancel.run_options)
        except Exception:
            if self.cancel.is_set():  # aborted between kernels by a stop; `tokens` is not extended
                raise Cancelled() from None
            raise

    def _forward(self, ids: list[int], extra: dict[str, np.ndarray] | None, rows: int, kind: CallKind) -> _Slot:
        """Run one call; the returned slot holds its logits and greedy choices until the next call."""
        n = len(ids)
        start = len(self.tokens)
        check_room(start, n, self.context_length)
        slot = self._slot(n, rows, kind)
        if n == 1:  # the decode step: one write per input, no temporary arrays
            tok = int(ids[0])
            if not 0 <= tok < self._vocab:  # the stacked table would read another table's row
                raise ValueError(f"token id {tok} is outside the vocabulary (0..{self._vocab - 1})")
            row = [tok]
            if self._extra_limits:
                values = []
                for j, name in enumerate(self.spec.extra_inputs):
                    given = None if extra is None else extra.get(name)
                    if given is None:
                        raise ValueError(f"extra input {name!r} is required by this model")
                    value = int(given[0])
                    if not 0 <= value < self._extra_limits[j]:
                        raise ValueError(f"extra input {name!r} value {value} is outside its table")
                    values.append(value)
                    row.append(value + self._extra_offsets[j])
                self._features[start] = values
            slot.step_ids[:] = row
            slot.seqlens_k[0] = start
            slot.total_flat[0] = start + 1
            self._run(slot)
            self.tokens.append(tok)
            return slot
        buf = slot.ids[0]
        buf[:, 0] = ids
        if buf[:, 0].min() < 0 or buf[:, 0].max() >= self._vocab:
            raise ValueError(f"token ids must lie in 0..{self._vocab - 1}")
        for j, name in enumerate(self.spec.extra_inputs, start=1):
            values = None if extra is None else extra.get(name)
            if values is None:
                raise ValueError(f"extra input {name!r} is required by this model")
            buf[:, j] = values
            if buf[:, j].min() < 0 or buf[:, j].max() >= self._extra_limits[j - 1]:
                raise ValueError(f"extra input {name!r} has values outside its table")
            self._features[start:start + n, j - 1] = buf[:, j]
            buf[:, j] += self._extra_offsets[j - 1]
        slot.seqlens_k[0] = start + n - 1
        slot.total[...] = start + n
        self._run(slot)
        self.tokens.extend(int(t) for t in ids)
        return slot

    def forward(self, ids: list[int], extra: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Append `ids` to the cache; return their logits [len(ids), vocab] (float32, a fresh array)."""
        return self._forward(ids, extra, len(ids), _call_kind(ids)).logits[0].copy()

    def forward_greedy(self, ids: list[int], extra: dict[str, np.ndarray] | None = None) -> list[int]:
        """Append `ids` to the cache; return the greedy choice after each of them.

        Equal to ``argmax(forward(ids)[i] + spec.ban_bias)``, chosen inside the graph: no logits
        are copied or scanned in Python.
        """
        self._greedy = self._forward(ids, extra, len(ids), _call_kind(ids))
        return self._greedy.next_ids[0].tolist()

    def row_logits(self, i: int) -> np.ndarray:
        """Row `i` of the last forward_greedy's logits (the graph wrote them with its choices;
        valid until the next call)."""
        return self._greedy.logits[0, i]

    def prefill(self, ids: list[int], extra: dict[str, np.ndarray] | None = None, chunk: int = 128) -> np.ndarray:
        """Forward a long prompt in chunks, checking `cancel` between them; return the last logits."""
        if not ids:
            raise ValueError("prefill needs at least one token")
        logits = None
        for s in range(0, len(ids), chunk):
            if self.cancel.is_set():
                raise Cancelled()
            part = None if extra is None else {k: v[s:s + chunk] for k, v in extra.items()}
            slot = self._forward(ids[s:s + chunk], part, 1, CallKind.PREFILL)
        return slot.logits[0, -1].copy()

    def common_prefix(self, ids: list[int], extra: dict[str, np.ndarray] | None = None) -> int:
        """How many leading positions of `ids` (with their extra inputs) the cache already holds."""
        return cached_prefix(self.tokens, self.features, ids, extra)


def _call_kind(ids: list[int]) -> CallKind:
    return CallKind.STEP if len(ids) == 1 else CallKind.VERIFY


def make_decoder(spec: ModelSpec, threads: int = 1, fast: bool = True, weights: dict[str, str] | None = None):
    """The fastest decoder this model folder supports: FastDecoder, else the plain OnnxDecoder.

    `weights` maps each decode mode to its format (default ENGINE_WEIGHTS); the FastDecoder holds
    them all and :func:`use_for` switches per request.
    """
    from .runner import OnnxDecoder

    modes = {**ENGINE_WEIGHTS, **(weights or {})}
    if fast and FastDecoder.supports(spec):
        try:
            dec = FastDecoder(spec, threads=threads, weights=modes["speculative"], also=(modes["plain"],))
            dec.modes = modes
            return dec
        except ValueError:  # e.g. an ONNX Runtime without the contrib kernels
            pass
    from .boundrunner import BoundDecoder, bindable

    if fast and bindable(spec):  # a GroupQueryAttention export (onnxruntime-genai): bound KV cache
        try:
            return BoundDecoder(spec, threads=threads)
        except ValueError:
            pass
    return OnnxDecoder(spec, threads=threads)


def use_for(dec, speculate: bool) -> None:
    """Put a decoder made by :func:`make_decoder` in its format for this request's decode mode."""
    modes = getattr(dec, "modes", None)
    if modes:
        name = modes["speculative" if speculate else "plain"]
        if dec.weights != name:
            dec.use(name)
