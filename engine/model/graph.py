"""Build a Llama-style decoder as an ONNX graph in the Hugging Face Optimum layout.

Weights, not a framework export, are the contract between training and the engine: any trainer
that produces the named arrays below gets the same graph, and a faster graph can later be built
from the same arrays without retraining.

Inputs: ``input_ids`` [batch, seq], ``attention_mask`` [batch, past+seq], ``position_ids``
[batch, seq], ``past_key_values.{i}.key/value`` [batch, kv_heads, past, head_dim], plus one int64
[batch, seq] input per extra embedding (e.g. draft ids). Outputs: ``logits`` [batch, seq, vocab],
``present.{i}.key/value`` [batch, kv_heads, past+seq, head_dim].

Computation (RMSNorm, rotary embeddings in the HF Llama ``rotate_half`` convention, grouped-query
causal attention, SwiGLU MLP, weight matrices stored [in, out])::

    h = embed_tokens[input_ids] + Σ embed_extra.<name>[<name>]
    for each layer: h += attn(rmsnorm(h)) @ wo ; h += (silu(m @ w_gate) * (m @ w_up)) @ w_down
    logits = rmsnorm(h, final_norm) @ (embed_tokens.T if tied else lm_head)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


@dataclass
class DecoderConfig:
    vocab_size: int  # tokens in the vocabulary
    hidden_size: int  # model width d
    intermediate_size: int  # SwiGLU inner width
    num_hidden_layers: int  # transformer blocks
    num_attention_heads: int  # query heads
    num_key_value_heads: int  # key/value heads (grouped-query attention when fewer)
    head_dim: int  # width of one head
    max_position_embeddings: int  # context length in tokens
    rms_norm_eps: float = 1e-5  # RMSNorm epsilon
    rope_theta: float = 10000.0  # rotary base
    tie_word_embeddings: bool = True  # lm_head = embed_tokens.T

    @classmethod
    def from_dict(cls, data: dict) -> "DecoderConfig":
        names = {f.name for f in fields(cls)}
        missing = {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads"} - set(data)
        if missing:
            raise ValueError(f"config.json lacks {sorted(missing)}")
        values = {k: v for k, v in data.items() if k in names}
        values.setdefault("num_key_value_heads", data["num_attention_heads"])
        values.setdefault("head_dim", data["hidden_size"] // data["num_attention_heads"])
        values.setdefault("intermediate_size", 4 * data["hidden_size"])
        values.setdefault("max_position_embeddings", 2048)
        return cls(**values)

    def to_json(self, path: str | Path) -> None:
        data = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], **asdict(self)}
        Path(path).write_text(json.dumps(data, indent=2) + "\n")


def weight_names(cfg: DecoderConfig, extra_inputs: list[str]) -> list[str]:
    names = ["embed_tokens", *(f"embed_extra.{n}" for n in extra_inputs)]
    for i in range(cfg.num_hidden_layers):
        names += [f"layers.{i}.{w}" for w in
                  ("attn_norm", "wq", "wk", "wv", "wo", "mlp_norm", "w_gate", "w_up", "w_down")]
    names.append("final_norm")
    if not cfg.tie_word_embeddings:
        names.append("lm_head")
    return names


def expected_shapes(cfg: DecoderConfig) -> dict[str, tuple[int, ...]]:
    d, h, kv, hd, ff = (cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads,
                        cfg.head_dim, cfg.intermediate_size)
    shapes: dict[str, tuple[int, ...]] = {"embed_tokens": (cfg.vocab_size, d), "final_norm": (d,)}
    for i in range(cfg.num_hidden_layers):
        p = f"layers.{i}."
        shapes.update({p + "attn_norm": (d,), p + "wq": (d, h * hd), p + "wk": (d, kv * hd),
                       p + "wv": (d, kv * hd), p + "wo": (h * hd, d), p + "mlp_norm": (d,),
                       p + "w_gate": (d, ff), p + "w_up": (d, ff), p + "w_down": (ff, d)})
    if not cfg.tie_word_embeddings:
        shapes["lm_head"] = (d, cfg.vocab_size)
    return shapes


def rope_tables(cfg: DecoderConfig) -> tuple[np.ndarray, np.ndarray]:
    """cos/sin [max_pos, head_dim] as HF Llama computes them (frequencies repeated twice)."""
    hd = cfg.head_dim
    inv_freq = 1.0 / (cfg.rope_theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    pos = np.arange(cfg.max_position_embeddings, dtype=np.float64)
    freqs = np.outer(pos, inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb).astype(np.float32), np.sin(emb).astype(np.float32)


class GraphBuilder:
    """Accumulates nodes and initializers with unique names (shared with engine/model/fastgraph.py)."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], name_hint: str, n_out: int = 1, domain: str = "",
           outputs: list[str] | None = None, **attrs) -> str | list[str]:
        self._n += 1
        outs = outputs or [f"{name_hint}_{self._n}" if n_out == 1 else f"{name_hint}_{self._n}_{k}"
                           for k in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=f"{op_type}_{self._n}",
                                           domain=domain or None, **attrs))
        return outs[0] if len(outs) == 1 else outs

    def rmsnorm(self, x: str, weight: str, eps: str) -> str:
        sq = self.op("Mul", [x, x], "sq")
        mean = self.op("ReduceMean", [sq], "ms", axes=[-1], keepdims=1)
        rms = self.op("Sqrt", [self.op("Add", [mean, eps], "mse")], "rms")
        return self.op("Mul", [self.op("Div", [x, rms], "xn"), weight], "norm")


def build_decoder_onnx(
    weights: dict[str, np.ndarray], cfg: DecoderConfig, extra_inputs: list[str] | None = None
) -> onnx.ModelProto:
    """Build the decoder graph from named float32 weights (see the module docstring)."""
    extra_inputs = list(extra_inputs or [])
    missing = [n for n in weight_names(cfg, extra_inputs) if n not in weights]
    if missing:
        raise ValueError(f"weights missing: {missing[:5]}{'…' if len(missing) > 5 else ''}")
    for name, shape in expected_shapes(cfg).items():
        if tuple(weights[name].shape) != shape:
            raise ValueError(f"weight {name} has shape {weights[name].shape}, expected {shape}")
    for n in extra_inputs:
        w = weights[f"embed_extra.{n}"]
        if w.ndim != 2 or w.shape[1] != cfg.hidden_size:
            raise ValueError(f"embed_extra.{n} must be [n, {cfg.hidden_size}], got {w.shape}")

    b = GraphBuilder()
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    H, KV, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    rep = H // KV
    if H % KV:
        raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")

    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"]),
    ]
    inputs += [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in extra_inputs]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", cfg.vocab_size])]

    for name in weight_names(cfg, extra_inputs):
        b.const(name, f32(weights[name]))
    lm_head = "lm_head"
    if cfg.tie_word_embeddings:
        lm_head = b.const("lm_head_tied", f32(weights["embed_tokens"]).T)
    cos, sin = rope_tables(cfg)
    b.const("rope_cos", cos)
    b.const("rope_sin", sin)
    eps = b.const("rms_eps", f32(cfg.rms_norm_eps))
    scale = b.const("attn_scale", f32(1.0 / np.sqrt(hd)))
    neg = b.const("mask_neg", f32(np.finfo(np.float32).min))
    zero_f = b.const("zero_f", f32(0.0))
    one_i = b.const("one_i", np.array(1, dtype=np.int64))
    zero_i = b.const("zero_i", np.array(0, dtype=np.int64))
    shape_q = b.const("shape_q", np.array([0, 0, H, hd], dtype=np.int64))
    shape_kv = b.const("shape_kv", np.array([0, 0, KV, hd], dtype=np.int64))
    shape_merge = b.const("shape_merge", np.array([0, 0, H * hd], dtype=np.int64))
    half = hd // 2
    split = b.const("rope_split", np.array([half, half], dtype=np.int64))

    # Embeddings: token + each extra (draft) embedding.
    h = b.op("Gather", ["embed_tokens", "input_ids"], "emb", axis=0)
    for n in extra_inputs:
        h = b.op("Add", [h, b.op("Gather", [f"embed_extra.{n}", n], "xemb", axis=0)], "emb")

    # Rotary tables for these positions: [batch, 1, seq, head_dim].
    cos_p = b.op("Unsqueeze", [b.op("Gather", ["rope_cos", "position_ids"], "cos", axis=0),
                               b.const("ax1", np.array([1], dtype=np.int64))], "cos4")
    sin_p = b.op("Unsqueeze", [b.op("Gather", ["rope_sin", "position_ids"], "sin", axis=0), "ax1"], "sin4")

    # Causal mask [batch, 1, seq, total]: key j visible to query i iff j <= past + i and mask[j].
    total = b.op("Gather", [b.op("Shape", ["attention_mask"], "mshape"), one_i], "total", axis=0)
    seq = b.op("Gather", [b.op("Shape", ["input_ids"], "ishape"), one_i], "seqlen", axis=0)
    past = b.op("Sub", [total, seq], "pastlen")
    q_pos = b.op("Unsqueeze", [b.op("Range", [past, total, one_i], "qpos"), "ax1"], "qpos2")
    k_pos = b.op("Range", [zero_i, total, one_i], "kpos")
    causal = b.op("LessOrEqual", [k_pos, q_pos], "causal")  # [seq, total]
    pad = b.op("Cast", [b.op("Unsqueeze", ["attention_mask", b.const("ax12", np.array([1, 2], dtype=np.int64))],
                             "am4")], "am4b", to=TensorProto.BOOL)  # [batch, 1, 1, total]
    visible = b.op("And", [causal, pad], "visible")
    mask_add = b.op("Where", [visible, zero_f, neg], "maskadd")

    def rope(x: str) -> str:
        x1, x2 = b.op("Split", [x, split], "rsplit", n_out=2, axis=-1)
        rot = b.op("Concat", [b.op("Neg", [x2], "rneg"), x1], "rot", axis=-1)
        return b.op("Add", [b.op("Mul", [x, cos_p], "rc"), b.op("Mul", [rot, sin_p], "rs")], "roped")

    for i in range(cfg.num_hidden_layers):
        p = f"layers.{i}."
        past_k, past_v = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        inputs += [helper.make_tensor_value_info(past_k, TensorProto.FLOAT, ["batch", KV, "past", hd]),
                   helper.make_tensor_value_info(past_v, TensorProto.FLOAT, ["batch", KV, "past", hd])]
        a = b.rmsnorm(h, p + "attn_norm", eps)
        q = b.op("Transpose", [b.op("Reshape", [b.op("MatMul", [a, p + "wq"], "q"), shape_q], "q4")], "qt", perm=[0, 2, 1, 3])
        k = b.op("Transpose", [b.op("Reshape", [b.op("MatMul", [a, p + "wk"], "k"), shape_kv], "k4")], "kt", perm=[0, 2, 1, 3])
        v = b.op("Transpose", [b.op("Reshape", [b.op("MatMul", [a, p + "wv"], "v"), shape_kv], "v4")], "vt", perm=[0, 2, 1, 3])
        q, k = rope(q), rope(k)
        present_k, present_v = f"present.{i}.key", f"present.{i}.value"
        b.nodes.append(helper.make_node("Concat", [past_k, k], [present_k], axis=2, name=f"cat_k{i}"))
        b.nodes.append(helper.make_node("Concat", [past_v, v], [present_v], axis=2, name=f"cat_v{i}"))
        outputs += [helper.make_tensor_value_info(present_k, TensorProto.FLOAT, ["batch", KV, "total", hd]),
                    helper.make_tensor_value_info(present_v, TensorProto.FLOAT, ["batch", KV, "total", hd])]
        kk, vv = present_k, present_v
        if rep > 1:  # grouped-query attention: repeat each kv head for its query heads
            reps = b.const(f"gqa_reps{i}", np.array([1, 1, rep, 1, 1], dtype=np.int64))
            back = b.const(f"gqa_shape{i}", np.array([0, H, -1, hd], dtype=np.int64))
            ax2 = b.const(f"ax2_{i}", np.array([2], dtype=np.int64))
            kk = b.op("Reshape", [b.op("Tile", [b.op("Unsqueeze", [kk, ax2], "ku"), reps], "krep"), back], "kg")
            vv = b.op("Reshape", [b.op("Tile", [b.op("Unsqueeze", [vv, ax2], "vu"), reps], "vrep"), back], "vg")
        scores = b.op("Mul", [b.op("MatMul", [q, b.op("Transpose", [kk], "kT", perm=[0, 1, 3, 2])], "qk"), scale], "sc")
        probs = b.op("Softmax", [b.op("Add", [scores, mask_add], "scm")], "pr", axis=-1)
        ctx = b.op("Transpose", [b.op("MatMul", [probs, vv], "ctx")], "ctxt", perm=[0, 2, 1, 3])
        attn = b.op("MatMul", [b.op("Reshape", [ctx, shape_merge], "ctx3"), p + "wo"], "ao")
        h = b.op("Add", [h, attn], "h")
        m = b.rmsnorm(h, p + "mlp_norm", eps)
        gate = b.op("MatMul", [m, p + "w_gate"], "gate")
        act = b.op("Mul", [gate, b.op("Sigmoid", [gate], "sig")], "silu")
        up = b.op("MatMul", [m, p + "w_up"], "up")
        h = b.op("Add", [h, b.op("MatMul", [b.op("Mul", [act, up], "gu"), p + "w_down"], "down")], "h")

    hn = b.rmsnorm(h, "final_norm", eps)
    b.nodes.append(helper.make_node("MatMul", [hn, lm_head], ["logits"], name="lm_head"))
    graph = helper.make_graph(b.nodes, "tessera_decoder", inputs, outputs, b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="tessera")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def random_weights(cfg: DecoderConfig, extra_inputs: dict[str, int] | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded random weights of the right shapes (extra_inputs maps name → table rows)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in expected_shapes(cfg).items():
        if name.endswith("norm"):
            out[name] = np.ones(shape, np.float32)
        else:
            out[name] = (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)
    out["embed_tokens"] = rng.standard_normal(out["embed_tokens"].shape).astype(np.float32)
    for name, rows in (extra_inputs or {}).items():
        out[f"embed_extra.{name}"] = (0.1 * rng.standard_normal((rows, cfg.hidden_size))).astype(np.float32)
    return out
