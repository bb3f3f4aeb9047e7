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

from wire import Problem

from ..model.chat_edit import FenceFilter
from .degenerate import UNPARSABLE, Watch, stopped_parsing
from .events import DoneEvent, DoneStats, NoticeEvent, RedirectEvent, TokenEvent
from ..model.fastrunner import use_for
from ..model.modelspec import ModelSpec
from ..model.prompts import EditPrompt, encode, prompt_for
from .reframe import Frame, Restorer
from ..model.runner import Cancelled, ContextOverflow, OnnxDecoder
from .sampling import SamplingParams, sample
from .speculative import AdaptiveK, PromptLookup, SpeculationStats
from ..model.tokenizer import StreamDecoder

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
    prediction: str | None = None  # predicted output text: the speculation's draft instead of `code`
    pacing_args: tuple = (None, None, None)  # (hardware profile, emulated model, side channel) asked for
    running: bool = False  # on the worker now: a stop also interrupts the decoder's current call
    session_id: str = ""  # the session the request edits
    t_stop: float | None = None  # monotonic seconds when the engine read a stop for the current run
    _redirect_to: str | None = None  # pending mid-stream redirect
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stream: StreamDecoder | None = None  # detokenizer state, kept across redirects
    _fence: FenceFilter | None = None  # chat models: keeps only the code of the answer (engine/model/chat_edit.py)
    frame: Frame | None = None  # the target as the model sees it (engine/decode/reframe.py); None = `code` as is
    _restore: Restorer | None = None  # puts the model's output back in the document's terms
    model_text: str = ""  # the output as the model wrote it (before `_restore`), for the parse check
    windows: list["EditJob"] | None = None  # a long target's windows, run in order (engine/decode/windows.py)
    window_at: int = 0  # the window running now (or to continue after a stop)
    refusal: str | None = None  # why the target cannot be edited at all (too long even for windows)
    _prompt: tuple | None = None  # (its inputs, the prompt built from them): built once per instruction

    @property
    def model_code(self) -> str:
        return self.frame.model_code if self.frame is not None else self.code

    @property
    def model_instruction(self) -> str:
        return self.frame.encode_text(self.instruction) if self.frame is not None else self.instruction

    def prompt(self, spec: ModelSpec) -> EditPrompt:
        """The prompt for the current instruction, built once: the request's arrival (context check),
        the pacer and the prefill share it; a redirect's new instruction builds a new one."""
        inputs = (self.model_instruction, self.model_code, self.file_context)
        if self._prompt is None or self._prompt[0] != inputs:
            self._prompt = (inputs, prompt_for(spec, *inputs))
        return self._prompt[1]

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
        self.t_stop = None
        self.stop.clear()

    def has_redirect(self) -> bool:
        with self._lock:
            return self._redirect_to is not None


class _Drafts:
    """Extra per-position inputs (draft ids) for models that declare them; no-op otherwise."""

    def __init__(self, spec: ModelSpec, source_ids: list[int], instruction_ids: list[int]):
        self.names = spec.extra_inputs
        self.aligner = None
        self._ghost = None  # (aligner clone that pushed the last proposal, that proposal)
        self.use_lookup = False  # draft from prompt lookup even when the aligner could (a client's prediction)
        if self.names:
            from ..model.align import make_aligner  # the model's own alignment, shared with training

            self.aligner = make_aligner(spec.aligner or {}, source_ids, instruction_ids)

    @property
    def predicts_output(self) -> bool:
        """The model's aligner proposes drafts itself (``lookahead``): no prompt lookup is needed."""
        return self.aligner is not None and hasattr(self.aligner, "lookahead") and not self.use_lookup

    def for_prompt(self, n: int) -> dict[str, np.ndarray] | None:
        return self.aligner.prompt_features(n) if self.aligner else None

    def push(self, tok: int) -> dict[str, list[int]] | None:
        """Record an emitted token; return the features to feed with it."""
        if not self.aligner:
            return None
        self.aligner.push(tok)
        return {k: [v] for k, v in self.aligner.next_features().items()}  # one row; decoders take lists

    def feed(self, pending: int, k: int, lookup: PromptLookup | None) -> tuple[list[int], dict | None]:
        """The proposal to verify after `pending`, and the features for [pending] + proposal.

        `pending` is pushed for real; a model's own aligner, when it predicts the edited output
        (``lookahead``), is a better draft than the raw original, so it is preferred. Proposal
        features come from a clone, so rejected tokens leave no trace.
        """
        first = self.push(pending)
        if k <= 0:
            proposal: list[int] = []
        elif self.predicts_output:
            proposal = [int(t) for t in self.aligner.lookahead(k)]
        else:
            proposal = lookup.propose(k) if lookup is not None else []
        if first is None or not proposal:
            return proposal, first
        ghost = self.aligner.clone()
        rows = {name: [int(v[0])] for name, v in first.items()}
        for tok in proposal:
            ghost.push(tok)
            for name, v in ghost.next_features().items():
                rows[name].append(v)
        self._ghost = (ghost, proposal)
        return proposal, {name: np.asarray(v, dtype=np.int64) for name, v in rows.items()}

    def accept(self, tokens: list[int]) -> None:
        """Record the accepted prefix of the last proposal (the clone has seen a full acceptance)."""
        ghost, self._ghost = self._ghost, None
        if ghost is not None and tokens == ghost[1]:
            self.aligner = ghost[0]
        elif self.aligner:
            for tok in tokens:
                self.aligner.push(tok)


def _prepare(dec: OnnxDecoder, spec: ModelSpec, job: EditJob) -> tuple[np.ndarray, _Drafts, list[int], int]:
    """Build the prompt (+ partial output), reuse the cache, prefill.

    Returns the logits for the next output token, the draft features, the source ids, and how
    many prompt tokens were already cached.
    """
    # A document far beyond the context is measured by one context's worth of it, not tokenized
    # whole (the tokenizer holds the GIL: a large file would stall the event loop for seconds).
    over = spec.tokens_beyond(job.file_context if job.file_context is not None else job.model_code, spec.context_length)
    if over is not None:
        raise ContextOverflow(
            f"the prompt needs more than {over} tokens but {spec.name} holds {spec.context_length}; "
            "select less code or load a model with a longer context")
    prompt = job.prompt(spec)
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
    keep = dec.common_prefix(ids, extra)  # tokens and draft features must both match
    keep = min(keep, len(ids) - 1)  # the last position must run to give fresh logits
    dec.rewind(keep)
    tail_extra = None if extra is None else {k: v[keep:] for k, v in extra.items()}
    logits = dec.prefill(ids[keep:], tail_extra)
    return logits, drafts, prompt.source_ids, keep


def _lookup(job: EditJob, drafts: _Drafts, source_ids: list[int], spec: ModelSpec) -> PromptLookup | None:
    """Prompt lookup drafts for speculation, unless speculation is off or the aligner drafts.

    A client's predicted output (``job.prediction``) replaces the source as the draft, and is
    preferred over the model's own aligner: the client knows what it expects.
    """
    if not job.speculate:
        return None
    if job.prediction is not None:
        drafts.use_lookup = True
        pred = job.frame.encode_prediction(job.prediction) if job.frame is not None else job.prediction
        return PromptLookup([encode(spec.tokenizer, pred), list(job.output_ids)])
    if drafts.predicts_output:
        return None
    return PromptLookup([source_ids, list(job.output_ids)])


def _watch(spec: ModelSpec, job: EditJob, drafts: _Drafts, source_ids: list[int]) -> Watch | None:
    """The degeneration check (engine/decode/degenerate.py): known tokens are the code's, the instruction's, the drafts'.

    Only for edit models that declare their skills (they copy the code save for the named change);
    a general model may legitimately write what the code does not contain.
    """
    if not spec.skills:
        return None
    known = encode(spec.tokenizer, job.model_instruction)
    if drafts.aligner is not None and hasattr(drafts.aligner, "predicted"):
        known += list(drafts.aligner.predicted)
    if job.prediction:
        known += encode(spec.tokenizer, job.prediction)
    return Watch(source_ids, known)


def run_edit_job(dec: OnnxDecoder, spec: ModelSpec, job: EditJob, post: Callable[[object], None],
                 wake: Callable[[], None] | None = None) -> None:
    """Run (or continue) `job` to its end, posting TokenEvent/RedirectEvent and one DoneEvent.

    With `wake`, `post` may hold events back until `wake()` hands them over; the loop calls it
    right before each forward pass and prefill (which run outside the GIL), and at the end.

    Loop state: `pending` is the last emitted token, not yet in the KV cache; each forward pass
    feeds it plus any speculative proposal (see engine/decode/speculative.py).
    """
    wake = wake or (lambda: None)
    t0 = job.t_arrival
    ms = lambda: round((time.monotonic() - t0) * 1e3, 3)  # noqa: E731
    job.segments += 1
    if job._stream is None:
        job._stream = StreamDecoder(spec.tokenizer, spec.byte_table)
        code = job.model_code
        job._fence = FenceFilter(keep_final_newline=code.endswith("\n") or not code) if spec.chat else None
        job._restore = job.frame.restorer() if job.frame is not None else None
    rng = np.random.default_rng(job.sampling.seed)
    ban = spec.ban_bias
    start_tokens = len(job.output_ids)
    spec_stats = SpeculationStats()
    stats = DoneStats(prompt_tokens=0, cached_tokens=0, prefill_ms=0.0, out_of_scope=job.out_of_scope,
                      context_tokens=spec.context_length, speculate=job.speculate)
    t_first = t_last = None
    reason = "eos"
    produced = 0
    watch: Watch | None = None
    degenerate: str | None = None  # why the output was cut short as degenerate

    def emit(tok: int, from_draft: bool) -> None:
        nonlocal t_first, t_last, produced, degenerate
        t_last = time.monotonic()
        t_ms = round((t_last - t0) * 1e3, 3)
        if t_first is None:
            t_first = t_last
            stats.ttft_ms = t_ms
        text = job._stream.push(tok)
        if job._fence is not None:
            text = job._fence.feed(text)
        job.model_text += text
        if job._restore is not None:
            text = job._restore.push(text)
        job.output_ids.append(tok)
        if watch is not None and degenerate is None:
            degenerate = watch.see(job.output_ids)
        job.output_text += text
        produced += 1
        post(TokenEvent(job.request_id, len(job.output_ids) - 1, text, 1, t_ms, t_ms, int(from_draft)))

    dec.cancel.clear()  # a stop meant for an earlier job must not cut this one short
    job.running = True
    if job.stop.is_set():  # stopped while queued: no prefill either
        dec.cancel.set()
    try:
        use_for(dec, job.speculate)  # the request's weight format (engine/model/fastrunner.py ENGINE_WEIGHTS)
        stats.weights = getattr(dec, "weights", "float32")
        t_p = time.monotonic()
        logits, drafts, source_ids, keep = _prepare(dec, spec, job)
        stats.update(prompt_tokens=dec.length - len(job.output_ids), cached_tokens=keep,
                     prefill_ms=round((time.monotonic() - t_p) * 1e3, 3))
        lookup = _lookup(job, drafts, source_ids, spec)
        watch = _watch(spec, job, drafts, source_ids)
        if lookup is not None:
            for i in range(1, len(job.output_ids) + 1):
                lookup.observe(job.output_ids[:i])
        k_sched = AdaptiveK()
        budget = job.max_tokens if job.max_tokens is not None else spec.context_length
        pending: int | None = None
        while True:
            if job.stop.is_set():
                reason = "stop"
                break
            new_instruction = job.take_redirect()
            if new_instruction is not None:
                job.instruction = new_instruction
                stats.redirects += 1
                post(RedirectEvent(job.request_id, len(job.output_ids), len(job.output_text), new_instruction))
                wake()
                logits, drafts, source_ids, keep = _prepare(dec, spec, job)
                lookup = _lookup(job, drafts, source_ids, spec)
                watch = _watch(spec, job, drafts, source_ids)
                if lookup is not None:
                    lookup.observe(job.output_ids)
                pending = None
                continue
            if degenerate is not None:
                reason = "error"
                stats.error = Problem("degenerate_output", (
                    f"stopped: {degenerate}. The edit is probably outside what {spec.name} handles; "
                    "review the partial output, rephrase, select less, or load a larger model."))
                break
            if produced >= budget:
                reason = "length"
                break
            if pending is None:  # logits for the next token are at hand (after a prefill)
                tok = sample(logits + ban, job.sampling, rng)
                if tok in spec.eos_ids:
                    break
                emit(tok, False)
                if job._fence is not None and job._fence.state == "after":  # the answer's code block ended
                    break
                if lookup is not None:
                    lookup.observe(job.output_ids)
                pending = tok
                continue
            room = min(budget - produced, spec.context_length - dec.length) - 1
            if room < 0:
                reason = "length"
                break
            k = min(k_sched.k, room) if job.speculate else 0
            proposal, features = drafts.feed(pending, k, lookup)
            base = dec.length
            wake()  # hand over the tokens so far while this forward runs outside the GIL
            if job.sampling.greedy:  # the graph chose each row's token: no logits cross to Python
                choices = dec.forward_greedy([pending, *proposal], features)
                choose = choices.__getitem__
            else:  # sample row by row: a rejected row must not consume the generator
                rows = dec.forward([pending, *proposal], features)
                choose = lambda i: sample(rows[i] + ban, job.sampling, rng)  # noqa: E731
            if job.stop.is_set():  # stopped while this pass ran: nothing computed after the stop is shown
                dec.rewind(base)
                reason = "stop"
                break
            if proposal:
                spec_stats.proposed += len(proposal)
                spec_stats.verify_passes += 1
            accepted = 0
            ended = False
            for i in range(1 + len(proposal)):
                tok = choose(i)
                if tok in spec.eos_ids:
                    ended = True
                    break
                hit = i < len(proposal) and tok == proposal[i]
                emit(tok, hit)
                if lookup is not None:
                    lookup.observe(job.output_ids)
                if job._fence is not None and job._fence.state == "after":
                    ended = True
                    break
                if not hit or produced >= budget or degenerate is not None:
                    break
                accepted += 1
            spec_stats.accepted += accepted
            k_sched.update(len(proposal), accepted)
            dec.rewind(base + 1 + accepted)  # drop rejected proposals from the cache
            drafts.accept(proposal[:accepted])
            pending = job.output_ids[-1]
            if ended:
                reason = "eos"
                break
    except Cancelled:
        reason = "stop"
    except ContextOverflow as exc:
        reason = "error"
        stats.error = Problem("context_overflow", str(exc))
    except Exception as exc:  # never let a worker failure hang the client
        reason = "error"
        stats.error = Problem("engine_error", f"{type(exc).__name__}: {exc}")
    job.running = False
    tail = job._stream.flush() if reason in ("eos", "length", "error") else ""
    if job._fence is not None and reason in ("eos", "length", "error"):
        tail = job._fence.feed(tail) + job._fence.finish()
    if job._restore is not None and reason in ("eos", "length", "error"):
        tail = job._restore.push(tail) + job._restore.finish(complete=reason == "eos")
    if tail:
        job.output_text += tail
        post(TokenEvent(job.request_id, len(job.output_ids), tail, 0, ms(), ms()))
    if reason == "eos" and stopped_parsing(job.model_code, job.model_text):
        stats.warning = Problem("unparsable", UNPARSABLE)
        post(NoticeEvent(job.request_id, "unparsable", stats.warning.message))
    stats.parses = not stopped_parsing(job.model_code, job.model_text) if reason == "eos" else None
    n = len(job.output_ids) - start_tokens
    decode_s = (t_last - t_first) if (t_first and t_last and n > 1) else 0.0
    stats.update(
        tokens_out=n,
        tokens_total=len(job.output_ids),
        decode_tok_s=round((n - 1) / decode_s, 1) if decode_s > 0 else 0.0,
        e2e_tok_s=round(n / (t_last - t0), 1) if t_last and n else 0.0,
        total_ms=ms(),
        draft_accepted_tokens=spec_stats.accepted,
        draft_proposed_tokens=spec_stats.proposed,
        verify_passes=spec_stats.verify_passes,
        draft_acceptance_ratio=round(spec_stats.acceptance_rate, 4),
    )
    post(DoneEvent(job.request_id, reason, stats, job.output_text))
    wake()
