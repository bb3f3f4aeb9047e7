"""The decode loop of one edit request, run on the engine's worker thread.

    prompt → reuse the cached prefix (rewind to the first differing token) → prefill the rest
    → repeat: check stop/redirect → choose a token → emit → forward it

A redirect rebuilds the prompt with the new instruction and the partial output appended, so the
model continues from what it already wrote; only the tokens after the changed instruction are
prefilled again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .events import DoneEvent, RedirectEvent, TokenEvent
from .modelspec import ModelSpec
from .prompts import build_edit_prompt
from .runner import Cancelled, ContextOverflow, OnnxDecoder
from .sampling import SamplingParams, sample
from .tokenizer import StreamDecoder, token_byte_table

_BYTE_TABLES: dict[int, list | None] = {}
_BANS: dict[int, np.ndarray] = {}


def _ban_bias(spec: ModelSpec) -> np.ndarray:
    """-inf on tokens an edit must never contain: prompt markers and ids the tokenizer lacks."""
    key = id(spec)
    if key not in _BANS:
        bias = np.zeros(spec.config.vocab_size, dtype=np.float32)
        bias[spec.tokenizer.get_vocab_size(with_added_tokens=True):] = -np.inf
        for role, tid in spec.special_ids.items():
            if tid not in spec.eos_ids and tid < bias.size:
                bias[tid] = -np.inf
        _BANS[key] = bias
    return _BANS[key]


@dataclass
class EditJob:
    request_id: str  # protocol request id
    instruction: str  # current instruction (changes on redirect)
    code: str  # the original selection being edited
    file_context: str | None = None  # whole document, for models trained with file context
    max_tokens: int | None = None  # output budget; None = fit the context
    sampling: SamplingParams = field(default_factory=SamplingParams)  # greedy by default
    speculate: bool = True  # use predicted-output speculation when the model supports it
    out_of_scope: bool = False  # instruction matched none of the model's skills
    t_arrival: float = field(default_factory=time.monotonic)  # monotonic seconds at arrival
    stop: threading.Event = field(default_factory=threading.Event)  # set → no further token
    output_ids: list[int] = field(default_factory=list)  # all output tokens so far
    output_text: str = ""  # all output text so far
    segments: int = 0  # how many times the job has run (1 + redirects after a finish)
    _redirect_to: str | None = None  # pending mid-stream redirect
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stream: StreamDecoder | None = None  # detokenizer state, kept across redirects

    def request_redirect(self, instruction: str) -> None:
        with self._lock:
            self._redirect_to = instruction

    def take_redirect(self) -> str | None:
        with self._lock:
            new, self._redirect_to = self._redirect_to, None
            return new

    def restart_with(self, instruction: str) -> None:
        """Continue a finished request with a new instruction (redirect after stop)."""
        self.instruction = instruction
        self._redirect_to = None
        self.t_arrival = time.monotonic()
        self.stop.clear()


def _stream_decoder(spec: ModelSpec) -> StreamDecoder:
    key = id(spec.tokenizer)
    if key not in _BYTE_TABLES:
        _BYTE_TABLES[key] = token_byte_table(spec.tokenizer)
    return StreamDecoder(spec.tokenizer, _BYTE_TABLES[key])


class _Drafts:
    """Extra per-position inputs (draft ids) for models that declare them; no-op otherwise."""

    def __init__(self, spec: ModelSpec, source_ids: list[int], instruction_ids: list[int]):
        self.names = spec.extra_inputs
        self.aligner = None
        if self.names:
            from .align import make_aligner  # the model's own alignment, shared with training

            self.aligner = make_aligner(spec.aligner or {}, source_ids, instruction_ids)

    def for_prompt(self, n: int) -> dict[str, np.ndarray] | None:
        return self.aligner.prompt_features(n) if self.aligner else None

    def push(self, tok: int) -> dict[str, np.ndarray] | None:
        if not self.aligner:
            return None
        self.aligner.push(tok)
        return {k: np.asarray([v], dtype=np.int64) for k, v in self.aligner.next_features().items()}


def _prepare(dec: OnnxDecoder, spec: ModelSpec, job: EditJob) -> tuple[np.ndarray, _Drafts, int, int]:
    """Build the prompt (+ partial output), reuse the cache, prefill; return last logits etc."""
    prompt = build_edit_prompt(spec.tokenizer, spec.special, job.instruction, job.code, job.file_context)
    drafts = _Drafts(spec, prompt.source_ids, prompt.instruction_ids)
    ids = prompt.ids + job.output_ids
    if len(ids) >= spec.context_length:
        raise ContextOverflow(
            f"the prompt needs {len(ids)} tokens but {spec.name} holds {spec.context_length}; "
            "select less code or load a model with a longer context")
    extra = drafts.for_prompt(len(prompt.ids))
    if extra is not None:
        for tok in job.output_ids:  # features for the partial output's positions
            step = drafts.push(tok)
            extra = {k: np.concatenate([v, step[k]]) for k, v in extra.items()}
    keep = dec.common_prefix(ids) if extra is None else 0
    keep = min(keep, len(ids) - 1)  # the last position must run to give fresh logits
    dec.rewind(keep)
    tail_extra = None if extra is None else {k: v[keep:] for k, v in extra.items()}
    logits = dec.prefill(ids[keep:], tail_extra)
    return logits, drafts, len(prompt.ids), keep


def run_edit_job(dec: OnnxDecoder, spec: ModelSpec, job: EditJob, post: Callable[[object], None]) -> None:
    """Run (or continue) `job` to its end, posting TokenEvent/RedirectEvent and one DoneEvent."""
    t0 = job.t_arrival
    ms = lambda: round((time.monotonic() - t0) * 1e3, 3)  # noqa: E731
    job.segments += 1
    if job._stream is None:
        job._stream = _stream_decoder(spec)
    rng = np.random.default_rng(job.sampling.seed)
    ban = _ban_bias(spec)
    start_tokens = len(job.output_ids)
    stats: dict = {"prompt_tokens": 0, "cached_tokens": 0, "prefill_ms": 0.0, "ttft_ms": None,
                   "accepted_draft": 0, "proposed_draft": 0, "redirects": 0,
                   "out_of_scope": job.out_of_scope, "context_length": spec.context_length}
    t_first = t_last = None
    reason = "eos"
    try:
        t_p = time.monotonic()
        logits, drafts, n_prompt, keep = _prepare(dec, spec, job)
        stats.update(prompt_tokens=n_prompt, cached_tokens=keep, prefill_ms=round((time.monotonic() - t_p) * 1e3, 3))
        budget = job.max_tokens if job.max_tokens is not None else spec.context_length
        budget = min(budget, spec.context_length - dec.length)
        produced = 0
        while True:
            if job.stop.is_set():
                reason = "stop"
                break
            new_instruction = job.take_redirect()
            if new_instruction is not None:
                job.instruction = new_instruction
                stats["redirects"] += 1
                post(RedirectEvent(job.request_id, len(job.output_ids), len(job.output_text), new_instruction))
                logits, drafts, n_prompt, keep = _prepare(dec, spec, job)
                budget = min(budget, produced + spec.context_length - dec.length)
                continue
            if produced >= budget:
                reason = "length"
                break
            tok = sample(logits + ban, job.sampling, rng)
            if tok in spec.eos_ids:
                reason = "eos"
                break
            t_last = time.monotonic()
            if t_first is None:
                t_first = t_last
                stats["ttft_ms"] = ms()
            text = job._stream.push(tok)
            job.output_ids.append(tok)
            job.output_text += text
            produced += 1
            post(TokenEvent(job.request_id, len(job.output_ids) - 1, text, 1, ms(), ms()))
            if job.stop.is_set():  # checked again so a stop never costs one more forward pass
                reason = "stop"
                break
            if produced >= budget or dec.length + 1 > spec.context_length:
                reason = "length"
                break
            logits = dec.forward([tok], drafts.push(tok))[-1]
    except Cancelled:
        reason = "stop"
    except ContextOverflow as exc:
        reason = "error"
        stats["error"] = {"code": "context_overflow", "message": str(exc)}
    except Exception as exc:  # never let a worker failure hang the client
        reason = "error"
        stats["error"] = {"code": "engine_error", "message": f"{type(exc).__name__}: {exc}"}
    tail = job._stream.flush() if reason in ("eos", "length", "error") else ""
    if tail:
        job.output_text += tail
        post(TokenEvent(job.request_id, len(job.output_ids), tail, 0, ms(), ms()))
    n = len(job.output_ids) - start_tokens
    decode_s = (t_last - t_first) if (t_first and t_last and n > 1) else 0.0
    stats.update(
        tokens=n,
        total_tokens=len(job.output_ids),
        tok_s=round((n - 1) / decode_s, 1) if decode_s > 0 else 0.0,
        e2e_tok_s=round(n / (t_last - t0), 1) if t_last and n else 0.0,
        total_ms=ms(),
    )
    post(DoneEvent(job.request_id, reason, stats, job.output_text))
