"""Step ``train``: time-bounded, resumable training of the draft decoder on CPU.

The learning-rate schedule runs on wall-clock minutes (warm-up, then cosine to 10% over the
planned minutes), so a run can be stopped and resumed, or given a new budget, without a step count
fixed in advance. A checkpoint (model, optimiser, clock, sampler state) is written every few
minutes; the newest one wins on resume.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from ..model.align import FEATURES
from ..model.graph import DecoderConfig
from .encode import Encoded
from .model import DraftDecoder


@dataclass
class TrainConfig:
    minutes: float = 60.0  # planned wall-clock budget of the whole run (all resumes together)
    batch_tokens: int = 6144  # tokens per optimiser step (padded)
    lr: float = 2e-3  # peak learning rate
    warmup_steps: int = 100  # linear warm-up, steps
    weight_decay: float = 0.01  # on matrices only
    checkpoint_minutes: float = 4.0  # between checkpoints
    threads: int = 1  # torch intra-op threads
    seed: int = 0  # sampler seed


def model_config(vocab_size: int, context_length: int) -> DecoderConfig:
    return DecoderConfig(vocab_size=vocab_size, hidden_size=192, intermediate_size=512, num_hidden_layers=4,
                         num_attention_heads=6, num_key_value_heads=2, head_dim=32,
                         max_position_embeddings=context_length, rms_norm_eps=1e-5, rope_theta=10000.0,
                         tie_word_embeddings=True)


class Batches:
    """Length-bucketed random batches of whole sequences, padded on the right."""

    def __init__(self, data: Encoded, batch_tokens: int, seed: int):
        self.data = data
        self.lengths = np.diff(data.offsets)
        self.order = np.argsort(self.lengths, kind="stable")
        self.batch_tokens = batch_tokens
        self.rng = np.random.default_rng(seed)

    def next(self) -> dict[str, torch.Tensor]:
        n = len(self.order)
        at = int(self.rng.integers(0, n))
        seq_len = int(self.lengths[self.order[at]])
        count = max(1, self.batch_tokens // max(seq_len, 1))
        lo = max(0, min(at - count // 2, n - count))
        picks = self.order[lo:lo + count]
        width = int(self.lengths[picks].max())
        d = self.data
        ids = np.zeros((len(picks), width), np.int64)
        labels = np.full((len(picks), width), -1, np.int64)
        feats = {k: np.zeros((len(picks), width), np.int64) for k in FEATURES}
        for r, i in enumerate(picks):
            s, e = d.offsets[i], d.offsets[i + 1]
            ids[r, :e - s] = d.ids[s:e]
            labels[r, :e - s] = d.labels[s:e]
            for k in FEATURES:
                feats[k][r, :e - s] = d.features[k][s:e]
        return {"ids": torch.from_numpy(ids), "labels": torch.from_numpy(labels),
                **{k: torch.from_numpy(v) for k, v in feats.items()}}


def lr_at(cfg: TrainConfig, step: int, elapsed_min: float, steps_this_run: int | None = None) -> float:
    """Warm-up, then cosine to 10% on wall-clock time; a resumed run warms up again (its
    optimiser state may be fresh)."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if steps_this_run is not None and steps_this_run < cfg.warmup_steps // 2:
        return lr_at(cfg, step, elapsed_min) * (steps_this_run + 1) / (cfg.warmup_steps // 2)
    frac = min(1.0, elapsed_min / max(cfg.minutes, 1e-6))
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def make_optimizer(model: DraftDecoder, cfg: TrainConfig) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.dim() == 2]
    rest = [p for p in model.parameters() if p.dim() != 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                              {"params": rest, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))


def save_checkpoint(path: Path, model, opt, step: int, elapsed_s: float, tokens: int, cfg: TrainConfig,
                    mcfg: DecoderConfig, batches: Batches, init_from: str | None = None) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed_s": elapsed_s,
                "tokens": tokens, "train_config": asdict(cfg), "model_config": asdict(mcfg),
                "extra_inputs": list(FEATURES), "sampler": batches.rng.bit_generator.state,
                "init_from": init_from}, tmp)
    tmp.replace(path)


def load_model(path: Path) -> tuple[DraftDecoder, dict]:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = DraftDecoder(DecoderConfig(**ck["model_config"]), ck["extra_inputs"])
    model.load_state_dict(ck["model"])
    return model, ck


def init_from_onnx(model: DraftDecoder, path: Path) -> None:
    """Load a shipped model's weights (its ONNX initializers, named as engine/model/graph.py names them)
    into `model`: each draft table becomes the token table (scale 1) plus its difference."""
    import onnx
    from onnx import numpy_helper

    w = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    with torch.no_grad():
        emb = torch.from_numpy(w["embed_tokens"].copy())
        model.embed_tokens.copy_(emb)
        model.final_norm.copy_(torch.from_numpy(w["final_norm"].copy()))
        for name, scale, delta in zip(model.extra_inputs, model.draft_scale, model.embed_extra):
            scale.fill_(1.0)
            delta.copy_(torch.from_numpy(w[f"embed_extra.{name}"].copy()) - emb)
        for i, blk in enumerate(model.layers):
            for n in ("attn_norm", "wq", "wk", "wv", "wo", "mlp_norm", "w_gate", "w_up", "w_down"):
                getattr(blk, n).copy_(torch.from_numpy(w[f"layers.{i}.{n}"].copy()))


def run(cache: Path, data: Encoded, vocab_size: int, context_length: int, cfg: TrainConfig,
        log=print, init_from: Path | None = None) -> Path:
    """Train (or resume); `init_from`: a model.onnx whose weights a fresh run starts from (fine-tuning)."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    ck_path = cache / "checkpoint.pt"
    mcfg = model_config(vocab_size, context_length)
    model = DraftDecoder(mcfg, list(FEATURES))
    opt = make_optimizer(model, cfg)
    batches = Batches(data, cfg.batch_tokens, cfg.seed)
    step, elapsed_s, tokens = 0, 0.0, 0
    origin = str(init_from) if init_from is not None else None
    if ck_path.is_file():
        ck = torch.load(ck_path, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        if ck.get("opt") is not None:
            opt.load_state_dict(ck["opt"])
        step, elapsed_s, tokens = ck["step"], ck["elapsed_s"], ck["tokens"]
        batches.rng.bit_generator.state = ck["sampler"]
        origin = ck.get("init_from")
        log(f"resumed at step {step}, {elapsed_s / 60:.1f} min, {tokens / 1e6:.1f}M tokens")
    elif init_from is not None:
        init_from_onnx(model, init_from)
        log(f"fine-tuning from {init_from}")
    log(f"model {model.num_parameters() / 1e6:.2f}M parameters; {len(data.kinds)} sequences; "
        f"{len(data.ids) / 1e6:.1f}M tokens; plan {cfg.minutes} min")
    t0 = time.monotonic() - elapsed_s
    last_ck = time.monotonic()
    run_loss, run_n, t_log, tok_log = 0.0, 0, time.monotonic(), 0
    model.train()
    steps_this_run = 0
    while True:
        elapsed_s = time.monotonic() - t0
        if elapsed_s / 60 >= cfg.minutes:
            break
        b = batches.next()
        lr = lr_at(cfg, step, elapsed_s / 60, steps_this_run)
        for g in opt.param_groups:
            g["lr"] = lr
        logits = model(b["ids"], {k: b[k] for k in FEATURES})
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), b["labels"].view(-1), ignore_index=-1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        steps_this_run += 1
        n_tok = int(b["ids"].numel())
        tokens += n_tok
        tok_log += n_tok
        run_loss += float(loss.detach())
        run_n += 1
        if step % 50 == 0:
            now = time.monotonic()
            log(json.dumps({"step": step, "min": round((now - t0) / 60, 2), "loss": round(run_loss / run_n, 4),
                            "lr": round(lr, 6), "tok_s": round(tok_log / (now - t_log)),
                            "tokens_M": round(tokens / 1e6, 2)}))
            run_loss, run_n, t_log, tok_log = 0.0, 0, now, 0
        if time.monotonic() - last_ck > cfg.checkpoint_minutes * 60:
            save_checkpoint(ck_path, model, opt, step, time.monotonic() - t0, tokens, cfg, mcfg, batches, origin)
            last_ck = time.monotonic()
    save_checkpoint(ck_path, model, opt, step, time.monotonic() - t0, tokens, cfg, mcfg, batches, origin)
    log(f"done: step {step}, {tokens / 1e6:.1f}M tokens, {(time.monotonic() - t0) / 60:.1f} min")
    return ck_path
