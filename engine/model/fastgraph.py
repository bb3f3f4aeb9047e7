"""Build the fused decoder graph that ONNX Runtime's CPU provider runs fastest.

Same weights and maths as :mod:`engine.model.graph` (RMSNorm, HF ``rotate_half`` rotary embeddings,
grouped-query causal attention, SwiGLU, tied or separate lm_head), expressed with the contrib
operators of the ``com.microsoft`` domain so each layer is a handful of kernels:

    SimplifiedLayerNormalization / SkipSimplifiedLayerNormalization  (residual add + RMSNorm in one)
    MatMul x·[wq|wk|wv]                          (one GEMM for Q, K and V)
    GroupQueryAttention(packed QKV, do_rotary)   (rotary, KV append and causal GQA in one kernel)
    MatMul ·wo, MatMul x·[w_gate|w_up], QuickGelu(alpha=1) = SiLU, Mul, MatMul ·w_down

Why these and not more: at this model size (d≈192) a decode step is dominated by per-kernel
overhead, not arithmetic, so every fused kernel counts; see ``FastGraphOptions.quant_bits`` for the
weight-only quantized variant, which the benchmark measures rather than assumes.

The KV cache is one preallocated buffer per layer of ``max_length`` positions, passed as
``past_key_values.N.key/value`` and bound to the same memory as ``present.N.key/value``
(``past_present_share_buffer``): a step writes only its own positions, and rewinding the cache is
just running the next step with a smaller ``seqlens_k``. GroupQueryAttention on CPU accepts any
number of new tokens on top of a past (k-token verification, chunked prefill) when batch = 1;
it derives rotary positions from ``seqlens_k`` (past = seqlens_k + 1 - new tokens).

Two input conventions:

- ``"direct"`` (our runner): ``input_ids`` int64 [1, S] (or, for a model with extra inputs,
  ``embed_rows`` int64 [1, S, 1 + extras]: the token id, then each extra id offset by the rows of
  the tables stacked before it), ``seqlens_k`` int32 [1] = past + S - 1,
  ``total_sequence_length`` int32 scalar = past + S, ``logits_start`` int64 [1] = -(positions
  that get logits, counted from the end; prefill needs one).
- ``"genai"`` (onnxruntime-genai's ``Generator`` feeds this): ``input_ids`` and
  ``attention_mask`` [1, total]; seqlens_k and the total length are computed from the mask as the
  genai model builder does; logits for every new position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .graph import DecoderConfig, GraphBuilder, expected_shapes, rope_tables, weight_names

MS = "com.microsoft"
OPSET = 17


@dataclass
class FastGraphOptions:
    max_length: int  # KV buffer length in tokens (the model's context length)
    quant_bits: int = 0  # 0 = float32 matmuls; 4 or 8 = MatMulNBits weight-only quantization
    lm_head_bits: int | None = None  # the vocabulary projection's format; None = quant_bits
    quant_block: int = 32  # MatMulNBits block size along the input dimension, elements
    quant_accuracy: int = 4  # MatMulNBits accuracy_level (4 = int8 activations, fastest on CPU)
    interface: str = "direct"  # "direct" (seqlens_k/total inputs) or "genai" (attention_mask)
    greedy_bias: np.ndarray | None = None  # [vocab]: add output next_ids = argmax(logits + bias)


def weights_from_onnx(model: onnx.ModelProto, cfg: DecoderConfig, extra_inputs: list[str]) -> dict[str, np.ndarray]:
    """Read the named weights back from a graph built by :func:`engine.model.graph.build_decoder_onnx`.

    Raises KeyError naming the first missing initializer (a foreign export) and ValueError for a
    shape that does not match the config.
    """
    wanted = set(weight_names(cfg, extra_inputs))
    found = {t.name: t for t in model.graph.initializer if t.name in wanted}
    missing = [n for n in weight_names(cfg, extra_inputs) if n not in found]
    if missing:
        raise KeyError(missing[0])
    out = {n: numpy_helper.to_array(t).astype(np.float32, copy=False) for n, t in found.items()}
    for name, shape in expected_shapes(cfg).items():
        if tuple(out[name].shape) != shape:
            raise ValueError(f"initializer {name} has shape {out[name].shape}, expected {shape}")
    return out


def quantize_blockwise(w: np.ndarray, bits: int, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Asymmetric per-block quantization of a [K, N] matrix in MatMulNBits' layout.

    Returns B uint8 [N, k_blocks, block*bits/8], scales float32 [N, k_blocks] and zero points
    uint8 (packed like B for 4 bits: [N, ceil(k_blocks/2)]; [N, k_blocks] for 8 bits).
    """
    k, n = w.shape
    k_blocks = -(-k // block)
    padded = np.zeros((k_blocks * block, n), np.float32)
    padded[:k] = w
    blocks = padded.T.reshape(n, k_blocks, block)  # [N, k_blocks, block]
    qmax = (1 << bits) - 1
    lo = np.minimum(blocks.min(axis=-1), 0.0)
    hi = np.maximum(blocks.max(axis=-1), 0.0)
    scale = (hi - lo) / qmax
    scale[scale == 0] = 1.0
    zp = np.clip(np.round(-lo / scale), 0, qmax).astype(np.uint8)
    q = np.clip(np.round(blocks / scale[..., None]) + zp[..., None], 0, qmax).astype(np.uint8)
    if bits == 8:
        return q, scale.astype(np.float32), zp
    if bits != 4:
        raise ValueError("quant_bits must be 0, 4 or 8")
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    zp_pad = np.zeros((n, k_blocks + (k_blocks & 1)), np.uint8)
    zp_pad[:, :k_blocks] = zp
    zp_packed = (zp_pad[:, 0::2] | (zp_pad[:, 1::2] << 4)).astype(np.uint8)
    return packed, scale.astype(np.float32), zp_packed


class _Graph(GraphBuilder):
    """The plain graph's builder plus quantizable linear layers."""

    def __init__(self, opts: FastGraphOptions) -> None:
        super().__init__()
        self.opts = opts

    def linear(self, x: str, w: np.ndarray, name: str, out: str | None = None, bits: int | None = None) -> str:
        """x @ w for w [in, out]: a MatMul, or MatMulNBits when quantizing."""
        bits = self.opts.quant_bits if bits is None else bits
        outputs = [out] if out else None
        if not bits:
            return self.op("MatMul", [x, self.const(name, w.astype(np.float32))], name, outputs=outputs)
        q, scales, zp = quantize_blockwise(w, bits, self.opts.quant_block)
        ins = [x, self.const(name + ".q", q), self.const(name + ".scales", scales), self.const(name + ".zp", zp)]
        return self.op("MatMulNBits", ins, name, domain=MS, outputs=outputs, K=w.shape[0], N=w.shape[1], bits=bits,
                       block_size=self.opts.quant_block, accuracy_level=self.opts.quant_accuracy)


def build_fast_decoder_onnx(weights: dict[str, np.ndarray], cfg: DecoderConfig, extra_inputs: list[str] | None,
                            opts: FastGraphOptions) -> onnx.ModelProto:
    """Build the fused graph (see the module docstring) from the plain graph's named weights."""
    extra_inputs = list(extra_inputs or [])
    missing = [n for n in weight_names(cfg, extra_inputs) if n not in weights]
    if missing:
        raise ValueError(f"weights missing: {missing[:5]}")
    if opts.interface not in ("direct", "genai"):
        raise ValueError(f"unknown interface {opts.interface!r}")
    if opts.interface == "genai" and extra_inputs:
        raise ValueError("the genai interface has no extra inputs")
    H, KV, hd, d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.hidden_size
    g = _Graph(opts)
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    L = opts.max_length

    if extra_inputs:
        inputs = [helper.make_tensor_value_info("embed_rows", TensorProto.INT64, [1, "seq", 1 + len(extra_inputs)])]
    else:
        inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "seq"])]
    if opts.interface == "direct":
        inputs += [helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, [1]),
                   helper.make_tensor_value_info("total_sequence_length", TensorProto.INT32, []),
                   helper.make_tensor_value_info("logits_start", TensorProto.INT64, [1])]
        seqlens_k, total_len = "seqlens_k", "total_sequence_length"
    else:
        inputs.append(helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [1, "total"]))
        one = g.const("one_i64", np.array([1], np.int64))
        summed = g.op("ReduceSum", ["attention_mask", one], "mask_sum", keepdims=0)
        seqlens_k = g.op("Cast", [g.op("Sub", [summed, one], "seqlens64")], "seqlens_k", to=TensorProto.INT32)
        total = g.op("Gather", [g.op("Shape", ["attention_mask"], "mask_shape"), g.const("idx1", np.array(1, np.int64))],
                     "total64", axis=0)
        total_len = g.op("Cast", [total], "total_len", to=TensorProto.INT32)
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, "rows", cfg.vocab_size])]

    cos, sin = rope_tables(cfg)
    cos_cache = g.const("rope_cos_half", cos[:, : hd // 2])  # GQA wants [max_pos, head_dim/2]
    sin_cache = g.const("rope_sin_half", sin[:, : hd // 2])
    eps = float(cfg.rms_norm_eps)

    if extra_inputs:
        # One Gather from the stacked tables and one ReduceSum instead of a Gather and an Add per
        # table: the caller offsets each extra id by the rows of the tables before it.
        stacked = np.concatenate([weights["embed_tokens"], *(weights[f"embed_extra.{n}"] for n in extra_inputs)])
        rows = g.op("Gather", [g.const("embed_stacked", f32(stacked)), "embed_rows"], "emb_rows", axis=0)
        h = g.op("ReduceSum", [rows, g.const("axis2", np.array([2], np.int64))], "emb", keepdims=0)
    else:
        h = g.op("Gather", [g.const("embed_tokens", f32(weights["embed_tokens"])), "input_ids"], "emb", axis=0)

    pending = None  # the previous block's output not yet added to the residual stream h
    for i in range(cfg.num_hidden_layers):
        p = f"layers.{i}."
        attn_norm = g.const(p + "attn_norm", f32(weights[p + "attn_norm"]))
        if pending is None:
            a = g.op("SimplifiedLayerNormalization", [h, attn_norm], "attn_in", epsilon=eps, axis=-1)
        else:
            a, _, _, h = g.op("SkipSimplifiedLayerNormalization", [h, pending, attn_norm], "attn_in", n_out=4,
                              domain=MS, epsilon=eps)
        wqkv = np.concatenate([weights[p + "wq"], weights[p + "wk"], weights[p + "wv"]], axis=1)
        qkv = g.linear(a, f32(wqkv), p + "wqkv")
        past_k, past_v = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        present_k, present_v = f"present.{i}.key", f"present.{i}.value"
        kv_shape = [1, KV, L, hd]
        inputs += [helper.make_tensor_value_info(past_k, TensorProto.FLOAT, kv_shape),
                   helper.make_tensor_value_info(past_v, TensorProto.FLOAT, kv_shape)]
        outputs += [helper.make_tensor_value_info(present_k, TensorProto.FLOAT, kv_shape),
                    helper.make_tensor_value_info(present_v, TensorProto.FLOAT, kv_shape)]
        attn = g.op("GroupQueryAttention", [qkv, "", "", past_k, past_v, seqlens_k, total_len, cos_cache, sin_cache],
                    "attn", domain=MS, outputs=[f"attn_{i}", present_k, present_v],
                    num_heads=H, kv_num_heads=KV, do_rotary=1, rotary_interleaved=0,
                    scale=float(1.0 / np.sqrt(hd)))[0]
        attn_out = g.linear(attn, f32(weights[p + "wo"]), p + "wo")
        mlp_norm = g.const(p + "mlp_norm", f32(weights[p + "mlp_norm"]))
        m, _, _, h = g.op("SkipSimplifiedLayerNormalization", [h, attn_out, mlp_norm], "mlp_in", n_out=4,
                          domain=MS, epsilon=eps)
        ff = cfg.intermediate_size
        gate_up = g.linear(m, f32(np.concatenate([weights[p + "w_gate"], weights[p + "w_up"]], axis=1)),
                           p + "w_gate_up")
        gate, up = g.op("Split", [gate_up, g.const(p + "split", np.array([ff, ff], np.int64))], "gu",
                        n_out=2, axis=-1)
        # QuickGelu(x, alpha) = x·sigmoid(alpha·x); alpha = 1 is SiLU in one kernel.
        act = g.op("Mul", [g.op("QuickGelu", [gate], "silu", domain=MS, alpha=1.0), up], "act")
        pending = g.linear(act, f32(weights[p + "w_down"]), p + "w_down")

    final_norm = g.const("final_norm", f32(weights["final_norm"]))
    if pending is None:
        hn = g.op("SimplifiedLayerNormalization", [h, final_norm], "final", epsilon=eps, axis=-1)
    else:
        hn = g.op("SkipSimplifiedLayerNormalization", [h, pending, final_norm], "final", n_out=4,
                  domain=MS, epsilon=eps)[0]
    if opts.interface == "direct":
        # Only the positions from `logits_start` (negative: from the end) need the vocabulary
        # projection; prefill asks for the last one.
        hn = g.op("Slice", [hn, "logits_start", g.const("slice_end", np.array([1 << 62], np.int64)),
                            g.const("slice_axis", np.array([1], np.int64))], "last_rows")
    lm = weights["embed_tokens"].T if cfg.tie_word_embeddings else weights["lm_head"]
    logits = g.linear(hn, np.ascontiguousarray(f32(lm)), "lm_head_t", out="logits", bits=opts.lm_head_bits)
    if opts.greedy_bias is not None:
        # The greedy choice in the graph: a decode step hands Python one int64 per row instead of
        # a vocabulary of logits to scan (np.argmax picks the first maximum; so does ArgMax).
        biased = g.op("Add", [logits, g.const("greedy_bias", f32(opts.greedy_bias))], "biased")
        g.op("ArgMax", [biased], "argmax", outputs=["next_ids"], axis=-1, keepdims=0)
        outputs.append(helper.make_tensor_value_info("next_ids", TensorProto.INT64, [1, "rows"]))
    graph = helper.make_graph(g.nodes, "tessera_decoder_fused", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)],
                              producer_name="tessera")
    model.ir_version = 8
    return model
