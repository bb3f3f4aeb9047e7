"""The draft-conditioned decoder in torch, computing exactly what ``engine.model.graph`` builds.

Parameters are plain ``nn.Parameter`` attributes named after the graph's weights and exported by
`export_weights`; weight matrices are stored [in, out] as in the graph, so ``x @ w`` is the same
product in both. Draft tables are parametrised during training (see `DraftDecoder.__init__`) and
folded into the graph's plain ``embed_extra.<name>`` tables on export.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..model.graph import DecoderConfig


def rms_norm(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


def rope_tables(cfg: DecoderConfig, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin [.., seq, head_dim] in the HF Llama convention (frequencies repeated twice)."""
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.float32) / cfg.head_dim))
    ang = positions.float()[..., None] * inv
    emb = torch.cat((ang, ang), dim=-1)
    return emb.cos(), emb.sin()


class Block(nn.Module):
    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        d, hd = cfg.hidden_size, cfg.head_dim
        self.cfg = cfg
        self.attn_norm = nn.Parameter(torch.ones(d))
        self.wq = nn.Parameter(torch.empty(d, cfg.num_attention_heads * hd))
        self.wk = nn.Parameter(torch.empty(d, cfg.num_key_value_heads * hd))
        self.wv = nn.Parameter(torch.empty(d, cfg.num_key_value_heads * hd))
        self.wo = nn.Parameter(torch.empty(cfg.num_attention_heads * hd, d))
        self.mlp_norm = nn.Parameter(torch.ones(d))
        self.w_gate = nn.Parameter(torch.empty(d, cfg.intermediate_size))
        self.w_up = nn.Parameter(torch.empty(d, cfg.intermediate_size))
        self.w_down = nn.Parameter(torch.empty(cfg.intermediate_size, d))

    def forward(self, h: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        cfg = self.cfg
        b, t, _ = h.shape
        nh, nkv, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        a = rms_norm(h, self.attn_norm, cfg.rms_norm_eps)
        q = (a @ self.wq).view(b, t, nh, hd).transpose(1, 2)
        k = (a @ self.wk).view(b, t, nkv, hd).transpose(1, 2)
        v = (a @ self.wv).view(b, t, nkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if nkv != nh:
            k = k.repeat_interleave(nh // nkv, dim=1)
            v = v.repeat_interleave(nh // nkv, dim=1)
        if mask is None:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0 / math.sqrt(hd))
        else:
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1.0 / math.sqrt(hd))
        h = h + o.transpose(1, 2).reshape(b, t, nh * hd) @ self.wo
        m = rms_norm(h, self.mlp_norm, cfg.rms_norm_eps)
        return h + (F.silu(m @ self.w_gate) * (m @ self.w_up)) @ self.w_down


class DraftDecoder(nn.Module):
    def __init__(self, cfg: DecoderConfig, extra_inputs: list[str]):
        super().__init__()
        if not cfg.tie_word_embeddings:
            raise ValueError("the bundled model ties its embeddings")
        self.cfg = cfg
        self.extra_inputs = list(extra_inputs)
        self.embed_tokens = nn.Parameter(torch.empty(cfg.vocab_size, cfg.hidden_size))
        # A draft table is the token table, scaled per dimension, plus a learned difference: a draft
        # token keeps meaning "emit me" even when rare, because it follows the output embedding
        # (tied) as that moves. A separate table left rare rows near their initial values while the
        # softmax moved their output rows, and the model then copied rare tokens badly and looped.
        self.draft_scale = nn.ParameterList([nn.Parameter(torch.ones(cfg.hidden_size)) for _ in self.extra_inputs])
        self.embed_extra = nn.ParameterList(
            [nn.Parameter(torch.zeros(cfg.vocab_size, cfg.hidden_size)) for _ in self.extra_inputs])
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.num_hidden_layers)])
        self.final_norm = nn.Parameter(torch.ones(cfg.hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        g = torch.Generator().manual_seed(0)
        std = 0.02
        with torch.no_grad():
            self.embed_tokens.normal_(0, std, generator=g)
            for e in self.embed_extra:
                e.zero_()  # a draft token starts out meaning what the token means
            out_std = std / math.sqrt(2 * self.cfg.num_hidden_layers)
            for blk in self.layers:
                for name in ("wq", "wk", "wv", "w_gate", "w_up"):
                    getattr(blk, name).normal_(0, std, generator=g)
                for name in ("wo", "w_down"):
                    getattr(blk, name).normal_(0, out_std, generator=g)

    def forward(self, input_ids: torch.Tensor, extra: dict[str, torch.Tensor],
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [batch, seq, vocab]. `mask`: optional additive/boolean attention mask
        [batch, 1, seq, seq] (causal plus padding); None means plain causal."""
        h = self.embed_tokens[input_ids]
        for name, scale, delta in zip(self.extra_inputs, self.draft_scale, self.embed_extra):
            x = extra[name]
            h = h + self.embed_tokens[x] * scale + delta[x]
        pos = torch.arange(input_ids.shape[1])
        cos, sin = rope_tables(self.cfg, pos)
        for blk in self.layers:
            h = blk(h, cos, sin, mask)
        h = rms_norm(h, self.final_norm, self.cfg.rms_norm_eps)
        return h @ self.embed_tokens.T

    def export_weights(self) -> dict[str, "np.ndarray"]:
        """The graph's weight dictionary (engine.model.graph names, float32, [in, out])."""
        out = {"embed_tokens": self.embed_tokens, "final_norm": self.final_norm}
        for name, scale, delta in zip(self.extra_inputs, self.draft_scale, self.embed_extra):
            out[f"embed_extra.{name}"] = self.embed_tokens * scale + delta  # the graph's plain table
        for i, blk in enumerate(self.layers):
            for w in ("attn_norm", "wq", "wk", "wv", "wo", "mlp_norm", "w_gate", "w_up", "w_down"):
                out[f"layers.{i}.{w}"] = getattr(blk, w)
        return {k: v.detach().float().cpu().numpy().copy() for k, v in out.items()}

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
