"""Step ``export``: checkpoint → named weights → ``engine.model.graph`` ONNX → model folder, with a
parity check that fails loudly when onnxruntime's logits differ from torch's.

Parity is checked twice on real training prompts: one full-sequence pass, and the same sequence
fed as a prefill plus single-token steps through the KV cache (the engine's decode path).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from ..model.align import FEATURES
from ..model.graph import DecoderConfig, build_decoder_onnx
from .train import load_model

PARITY_ATOL = 2e-3  # max |logit difference| allowed (float32, different kernels)


class ParityError(RuntimeError):
    """The exported graph does not compute what the trained model computes."""


def _ort_run(sess: ort.InferenceSession, cfg: DecoderConfig, ids: np.ndarray, feats: dict[str, np.ndarray],
             past: dict | None, start: int) -> tuple[np.ndarray, dict]:
    n = ids.shape[0]
    feeds = {"input_ids": ids[None].astype(np.int64),
             "attention_mask": np.ones((1, start + n), np.int64),
             "position_ids": np.arange(start, start + n, dtype=np.int64)[None]}
    for k in FEATURES:
        feeds[k] = feats[k][None].astype(np.int64)
    if past is None:
        shape = (1, cfg.num_key_value_heads, 0, cfg.head_dim)
        past = {f"past_key_values.{i}.{kv}": np.zeros(shape, np.float32)
                for i in range(cfg.num_hidden_layers) for kv in ("key", "value")}
    feeds.update(past)
    names = ["logits"] + [f"present.{i}.{kv}" for i in range(cfg.num_hidden_layers) for kv in ("key", "value")]
    outs = sess.run(names, feeds)
    new_past = {n.replace("present.", "past_key_values."): v for n, v in zip(names[1:], outs[1:])}
    return outs[0][0], new_past


def parity_check(model, onnx_path: Path, samples: list[tuple[np.ndarray, dict]], log=print) -> float:
    cfg = model.cfg
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst = 0.0
    model.eval()
    for ids, feats in samples:
        with torch.no_grad():
            ref = model(torch.from_numpy(ids[None].astype(np.int64)),
                        {k: torch.from_numpy(feats[k][None].astype(np.int64)) for k in FEATURES})[0].numpy()
        full, _ = _ort_run(sess, cfg, ids, feats, None, 0)
        split = max(1, len(ids) - 8)
        first, past = _ort_run(sess, cfg, ids[:split], {k: v[:split] for k, v in feats.items()}, None, 0)
        steps = [first]
        for j in range(split, len(ids)):
            out, past = _ort_run(sess, cfg, ids[j:j + 1], {k: v[j:j + 1] for k, v in feats.items()}, past, j)
            steps.append(out)
        cached = np.concatenate(steps, axis=0)
        diff = max(float(np.abs(full - ref).max()), float(np.abs(cached - ref).max()))
        worst = max(worst, diff)
    if worst > PARITY_ATOL:
        raise ParityError(f"ONNX logits differ from torch by {worst:.2e} (> {PARITY_ATOL:.0e})")
    log(f"parity: max |logit diff| {worst:.2e} over {len(samples)} sequences (full and cached)")
    return worst


def _samples(cache: Path, n: int = 4) -> list[tuple[np.ndarray, dict]]:
    from .encode import Encoded

    enc = Encoded.load(cache / "train_encoded.npz")
    out = []
    for i in range(0, n * 997, 997):
        s, e = enc.offsets[i], enc.offsets[i + 1]
        out.append((enc.ids[s:e].astype(np.int64), {k: enc.features[k][s:e].astype(np.int64) for k in FEATURES}))
    return out


def write_config(cfg: DecoderConfig, path: Path, end_id: int, pad_id: int) -> None:
    cfg.to_json(path)
    data = json.loads(path.read_text())
    data.update({"eos_token_id": end_id, "pad_token_id": pad_id, "torch_dtype": "float32"})
    path.write_text(json.dumps(data, indent=2) + "\n")


def run(cache: Path, model_dir: Path, checkpoint: Path | None = None, log=print) -> Path:
    model, ck = load_model(checkpoint or cache / "checkpoint.pt")
    cfg = model.cfg
    model_dir.mkdir(parents=True, exist_ok=True)
    proto = build_decoder_onnx(model.export_weights(), cfg, list(FEATURES))
    onnx_path = model_dir / "model.onnx"
    tmp = model_dir / "model.onnx.tmp"
    onnx.save(proto, str(tmp))
    parity_check(model, tmp, _samples(cache), log=log)
    tmp.replace(onnx_path)
    meta = json.loads((cache / "tessera.json").read_text())
    shutil.copy(cache / "tokenizer.json", model_dir / "tokenizer.json")
    shutil.copy(cache / "tessera.json", model_dir / "tessera.json")
    shutil.copy(cache / "data_manifest.json", model_dir / "data_manifest.json")
    write_config(cfg, model_dir / "config.json", meta["aligner"]["end"], meta["aligner"]["pad"])
    training = {"steps": ck["step"], "minutes": round(ck["elapsed_s"] / 60, 1), "tokens": ck["tokens"],
                "parameters": model.num_parameters(), "train_config": ck["train_config"],
                "init_from": ck.get("init_from")}
    (cache / "training_summary.json").write_text(json.dumps(training, indent=1) + "\n")
    log(f"exported {onnx_path} ({onnx_path.stat().st_size / 1e6:.1f} MB)")
    return onnx_path
