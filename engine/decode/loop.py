"""The decode loop of one edit request, run on the engine's worker thread, in named steps.

    prefill           prompt (+ partial output) → reuse the cached prefix → prefill the rest
    decode_one        after a prefill: sample the next token from the logits at hand, emit it
    speculative_step  propose k draft tokens → verify them with the pending token in one forward
                      pass → accept the agreeing prefix and the first disagreeing (or bonus) token

The loop checks stop and redirect before every step. A redirect rebuilds the prompt with the new
instruction and the partial output appended, so the model continues from what it already wrote;
only the tokens after the changed instruction are prefilled again.

What the loop knows nothing of: when the client sees a token (pacing), and what happens to tokens
computed but not yet shown when a stop arrives; the serving side decides both (engine/backends/).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from wire import Problem

from ..model.chat_edit import FenceFilter
from ..model.decoder import Decoder
from ..model.fastrunner import use_for
from ..model.modelspec import ModelSpec
from ..model.prompts import encode
from ..model.runner import Cancelled, ContextOverflow
from ..model.tokenizer import StreamDecoder
from .degenerate import UNPARSABLE, Watch, stopped_parsing
from .drafts import Drafts, ending_of, lookup_for, skill_text
from .events import DoneEvent, DoneStats, NoticeEvent, RedirectEvent, TokenEvent
from .job import EditJob, review_notice
from .sampling import sample
from .speculative import AdaptiveK, PromptLookup

__all__ = ["EditJob", "RunStats", "prefill", "run_edit_job"]


@dataclass
class RunStats:
    """What one run of a job measured as it went; `done_stats()` is its `done.stats`."""

    t_arrival_s: float  # monotonic seconds when the request arrived; the ms figures count from it
    context_tokens: int  # tokens the model holds, prompt and output together
    speculate: bool  # speculation asked for
    out_of_scope: bool  # the instruction matched none of the model's skills
    tokens_before: int = 0  # output tokens earlier runs of the request produced
    weights: str | None = None  # weight format of the run (engine/model/fastrunner.py ENGINE_WEIGHTS)
    prompt_tokens: int = 0  # prompt tokens of the first prefill (the partial output not counted)
    cached_tokens: int = 0  # of those, the ones the KV cache already held
    prefill_ms: float = 0.0  # building and prefilling the prompt, duration
    t_first_token_s: float | None = None  # monotonic seconds of this run's first token
    t_last_token_s: float | None = None  # monotonic seconds of its latest token
    tokens_emitted: int = 0  # output tokens this run emitted
    redirects: int = 0  # mid-stream redirects taken
    draft_proposed_tokens: int = 0  # draft tokens sent for verification
    draft_accepted_tokens: int = 0  # draft tokens the model agreed with
    verify_passes: int = 0  # forward passes that verified a proposal
    steered_tokens: int = 0  # tokens the trusted draft chose over the model's own first choice (``_Run.steer``)
    error: Problem | None = None  # why the run failed (reason "error")
    warning: Problem | None = None  # a notice about the output (unparsable)

    def ms_since_arrival(self, t_s: float | None = None) -> float:
        """Milliseconds from arrival to `t_s` (monotonic seconds; now when None), as `done` reports them."""
        return round(((time.monotonic() if t_s is None else t_s) - self.t_arrival_s) * 1e3, 3)

    def token_at(self, t_s: float) -> float:
        """Record a token emitted at `t_s`; its time in ms since arrival."""
        if self.t_first_token_s is None:
            self.t_first_token_s = t_s
        self.t_last_token_s = t_s
        self.tokens_emitted += 1
        return self.ms_since_arrival(t_s)

    def done_stats(self, tokens_out: int, tokens_total: int, parses: bool | None) -> DoneStats:
        t_first, t_last = self.t_first_token_s, self.t_last_token_s
        decode_s = (t_last - t_first) if (t_first and t_last and tokens_out > 1) else 0.0
        proposed = self.draft_proposed_tokens
        return DoneStats(
            tokens_out=tokens_out, tokens_total=tokens_total, prompt_tokens=self.prompt_tokens,
            cached_tokens=self.cached_tokens, context_tokens=self.context_tokens,
            ttft_ms=None if t_first is None else self.ms_since_arrival(t_first), prefill_ms=self.prefill_ms,
            total_ms=self.ms_since_arrival(),
            decode_tok_s=round((tokens_out - 1) / decode_s, 1) if decode_s > 0 else 0.0,
            e2e_tok_s=round(tokens_out / (t_last - self.t_arrival_s), 1) if t_last and tokens_out else 0.0,
            speculate=self.speculate, draft_accepted_tokens=self.draft_accepted_tokens,
            draft_proposed_tokens=proposed, verify_passes=self.verify_passes,
            draft_acceptance_ratio=round(self.draft_accepted_tokens / proposed, 4) if proposed else 0.0,
            redirects=self.redirects, steered_tokens=self.steered_tokens, weights=self.weights,
            out_of_scope=self.out_of_scope, parses=parses, error=self.error, warning=self.warning)


def _overflow(spec: ModelSpec, needed: str) -> ContextOverflow:
    return ContextOverflow(f"the prompt needs {needed} tokens but {spec.name} holds {spec.context_length}; "
                           "select less code or load a model with a longer context")


def prefill(dec: Decoder, spec: ModelSpec, job: EditJob) -> tuple[np.ndarray, Drafts, list[int], int]:
    """Build the prompt (+ partial output), reuse the cached prefix (rewind to the first differing
    token), prefill the rest.

    Returns the logits for the next output token, the draft features, the source ids, and how
    many prompt tokens were already cached.
    """
    # A document far beyond the context is measured by one context's worth of it, not tokenized
    # whole (the tokenizer holds the GIL: a large file would stall the event loop for seconds).
    over = spec.tokens_beyond(job.file_context if job.file_context is not None else job.model_code, spec.context_length)
    if over is not None:
        raise _overflow(spec, f"more than {over}")
    prompt = job.prompt(spec)
    text = skill_text(spec, job)
    drafts = Drafts(spec, prompt.source_ids, prompt.instruction_ids,
                    encode(spec.tokenizer, text) if text is not None else None,
                    ending_of(job.model_code, text) if text is not None else "")
    ids = prompt.ids + job.output_ids
    if len(ids) >= spec.context_length:
        raise _overflow(spec, str(len(ids)))
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


def _watch(spec: ModelSpec, job: EditJob, drafts: Drafts, source_ids: list[int]) -> Watch | None:
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


# How far the skill's rule's draft is trusted where it wrote the whole predicted output: its token is
# taken where the model gives it at least 1/e^DRAFT_TRUST of the probability of its own choice. The
# model was trained on outputs that equal that draft in 90% of f-string pairs, yet on templates dense
# with braces and escapes it leaves the draft for a second choice (a dropped bracket, a quote); see
# the model card's "Steering" section for what it changed on real code.
DRAFT_TRUST = float(np.log(10.0))
MAX_REFUSED_ENDS = 4  # an end refused this often is let through: the model insists


class _Run:
    """One run of `job` on the worker thread: the loop's state and its steps.

    Loop state: `pending` is the last emitted token, not yet in the KV cache; each forward pass
    feeds it plus any speculative proposal (see engine/decode/speculative.py).
    """

    def __init__(self, dec: Decoder, spec: ModelSpec, job: EditJob, post: Callable[[object], None],
                 wake: Callable[[], None]):
        self.dec, self.spec, self.job, self.post, self.wake = dec, spec, job, post, wake
        self.rng = np.random.default_rng(job.sampling.seed)
        self.ban = spec.ban_bias
        self.stats = RunStats(job.t_arrival, spec.context_length, job.speculate, job.out_of_scope,
                              tokens_before=len(job.output_ids))
        self.budget = job.max_tokens if job.max_tokens is not None else spec.context_length  # output tokens
        self.watch: Watch | None = None
        self.degenerate: str | None = None  # why the output was cut short as degenerate
        self.drafts: Drafts | None = None
        self.lookup: PromptLookup | None = None
        self.k_sched = AdaptiveK()
        self.kept: list[int] = []  # output tokens fixed in advance: the source's, before the first change
        self.refused_ends = 0  # ends refused so far (``may_end``)

    def emit(self, tok: int, from_draft: bool) -> None:
        """Detokenize `tok`, append it to the output and post its event."""
        job = self.job
        t_ms = self.stats.token_at(time.monotonic())
        text = job._stream.push(tok)
        if job._fence is not None:
            text = job._fence.feed(text)
        job.model_text += text
        if job._restore is not None:
            text = job._restore.push(text)
        job.output_ids.append(tok)
        if self.watch is not None and self.degenerate is None:
            self.degenerate = self.watch.see(job.output_ids)
        job.output_text += text
        self.post(TokenEvent(job.request_id, len(job.output_ids) - 1, text, 1, t_ms, t_ms, int(from_draft)))
        if self.lookup is not None:
            self.lookup.observe(job.output_ids)

    def answer_ended(self) -> bool:
        """A chat model's answer closed its code block: what follows is prose."""
        return self.job._fence is not None and self.job._fence.state == "after"

    def prefill(self, first: bool) -> np.ndarray:
        """Prefill the prompt; set up this prompt's drafts, prompt lookup and degeneration watch."""
        job, spec = self.job, self.spec
        t_p = time.monotonic()
        logits, self.drafts, source_ids, keep = prefill(self.dec, spec, job)
        if first and not job.output_ids:
            self.kept = self.drafts.kept
        if first:
            self.stats.prompt_tokens = self.dec.length - len(job.output_ids)
            self.stats.cached_tokens = keep
            self.stats.prefill_ms = round((time.monotonic() - t_p) * 1e3, 3)
        self.lookup = lookup_for(job, self.drafts, source_ids, spec)
        self.watch = _watch(spec, job, self.drafts, source_ids)
        if self.lookup is not None:
            if first:
                for i in range(1, len(job.output_ids) + 1):
                    self.lookup.observe(job.output_ids[:i])
            else:
                self.lookup.observe(job.output_ids)
        return logits

    def kept_or(self, tok: int) -> int:
        """The model's token, or the source's own where the output is still before the first change
        the skill's rule makes (engine/decode/drafts.py ``kept``): an edit keeps what precedes it,
        and a small model shown a lone statement would otherwise open it with ``return``."""
        n = len(self.job.output_ids)
        return self.kept[n] if n < len(self.kept) else tok

    def may_end(self) -> bool:
        """The output may end: it ends as the source does after the rule's last change (or there is
        no such rule, or the model has been refused an end MAX_REFUSED_ENDS times already)."""
        ending = self.drafts.ending if self.drafts is not None else ""
        return (not ending or self.refused_ends >= MAX_REFUSED_ENDS
                or self.job.model_text.rstrip().endswith(ending))

    def steer(self, tok: int, draft: int | None, row: Callable[[], np.ndarray]) -> int:
        """The greedy token where the skill's rule wrote the whole predicted output (``Drafts.trusted``):
        the model's choice `tok`, but the draft's token where the model gives it at least 1/e^DRAFT_TRUST
        of its choice's probability, and not an end while the output does not end as the source does.
        `row()` gives the position's logits, read only where the choice and the draft differ (rarely).
        Plain and speculative decoding both choose this way, so their greedy outputs stay equal."""
        drafts = self.drafts
        if drafts is None or not drafts.trusted:
            return tok
        refuse = tok in self.spec.eos_ids and not self.may_end()
        if not refuse and (draft is None or draft == tok):
            return tok
        z = row() + self.ban
        if refuse:
            self.refused_ends += 1
            z[list(self.spec.eos_ids)] = -np.inf
        if draft is not None and np.isfinite(z[draft]):
            z[draft] += DRAFT_TRUST
        chosen = int(np.argmax(z))
        self.stats.steered_tokens += chosen != tok
        return chosen

    def sample_steered(self, logits: np.ndarray, draft: int | None) -> int:
        """`steer` for sampled decoding: the draft's logit raised by DRAFT_TRUST, an early end resampled."""
        z = logits + self.ban
        drafts = self.drafts
        if drafts is None or not drafts.trusted:
            return sample(z, self.job.sampling, self.rng)
        if draft is not None:
            z[draft] += DRAFT_TRUST
        tok = sample(z, self.job.sampling, self.rng)
        if tok in self.spec.eos_ids and not self.may_end():
            self.refused_ends += 1
            self.stats.steered_tokens += 1
            z[list(self.spec.eos_ids)] = -np.inf
            tok = sample(z, self.job.sampling, self.rng)
        return tok

    def next_draft(self) -> int | None:
        """The draft token for the next position (the aligner's), None without one."""
        aligner = self.drafts.aligner if self.drafts is not None else None
        return int(aligner.next_features()["draft"]) if aligner is not None else None

    def decode_one(self, logits: np.ndarray) -> bool:
        """Choose the token after a prefill from `logits` and emit it; True when the output ended."""
        draft = self.next_draft()
        if self.job.sampling.greedy:
            tok = self.steer(int(np.argmax(logits + self.ban)), draft, lambda: logits)
        else:
            tok = self.sample_steered(logits, draft)
        tok = self.kept_or(tok)
        if tok in self.spec.eos_ids:
            return True
        self.emit(tok, False)
        return self.answer_ended()

    def speculative_step(self, pending: int, k: int) -> str | None:
        """Propose → verify → accept; the reason the run ends (``eos``, ``stop``), or None to go on.

        Verify feeds ``[pending] + proposal`` in one pass: row i predicts the token after feed[i].
        Accept proposal[i] while the chosen token equals it; the first disagreeing token (or the
        bonus token after a fully accepted proposal) is emitted too; the cache is rewound past the
        rejected ones. With k = 0 this is one plain decode step.
        """
        dec, job, spec, stats = self.dec, self.job, self.spec, self.stats
        proposal, features = self.drafts.feed(pending, k, self.lookup)  # propose
        base = dec.length
        self.wake()  # hand over the tokens so far while this forward runs outside the GIL
        drafted = features.get("draft") if features is not None else None
        draft = (lambda i: int(drafted[i])) if drafted is not None else (lambda i: None)
        if job.sampling.greedy:  # verify; the graph chose each row's token: no logits cross to Python
            choices = dec.forward_greedy([pending, *proposal], features)
            choose = lambda i: self.steer(choices[i], draft(i), lambda: dec.row_logits(i))  # noqa: E731
        else:  # sample row by row: a rejected row must not consume the generator
            rows = dec.forward([pending, *proposal], features)
            choose = lambda i: self.sample_steered(rows[i], draft(i))  # noqa: E731
        if job.stop.is_set():  # stopped while this pass ran: nothing computed after the stop is shown
            dec.rewind(base)
            return "stop"
        if proposal:
            stats.draft_proposed_tokens += len(proposal)
            stats.verify_passes += 1
        accepted = 0  # accept
        ended = False
        for i in range(1 + len(proposal)):
            tok = self.kept_or(choose(i))
            if tok in spec.eos_ids:
                ended = True
                break
            hit = i < len(proposal) and tok == proposal[i]
            self.emit(tok, hit)
            if self.answer_ended():
                ended = True
                break
            if not hit or stats.tokens_emitted >= self.budget or self.degenerate is not None:
                break
            accepted += 1
        stats.draft_accepted_tokens += accepted
        self.k_sched.update(len(proposal), accepted)
        dec.rewind(base + 1 + accepted)  # drop rejected proposals from the cache
        self.drafts.accept(proposal[:accepted])
        return "eos" if ended else None

    def redirect(self, instruction: str) -> np.ndarray:
        """Take a new instruction mid-stream: announce it, prefill the new prompt; its logits."""
        job = self.job
        job.instruction = instruction
        self.kept = []  # the old instruction's: the new one is the model's to follow from here
        self.stats.redirects += 1
        self.post(RedirectEvent(job.request_id, len(job.output_ids), len(job.output_text), instruction))
        self.wake()
        return self.prefill(first=False)

    def loop(self) -> str:
        """Steps until the output ends, a stop, a limit or degenerate output; the reason."""
        job, spec, stats = self.job, self.spec, self.stats
        use_for(self.dec, job.speculate)  # the request's weight format (engine/model/fastrunner.py ENGINE_WEIGHTS)
        stats.weights = getattr(self.dec, "weights", "float32")
        logits = self.prefill(first=True)
        pending: int | None = None  # None: logits for the next token are at hand (after a prefill)
        while True:
            if job.stop.is_set():
                return "stop"
            new_instruction = job.take_redirect()
            if new_instruction is not None:
                logits, pending = self.redirect(new_instruction), None
                continue
            if self.degenerate is not None:
                stats.error = Problem("degenerate_output", (
                    f"stopped: {self.degenerate}. The edit is probably outside what {spec.name} handles; "
                    "review the partial output, rephrase, select less, or load a larger model."))
                return "error"
            if stats.tokens_emitted >= self.budget:
                return "length"
            if pending is None:
                if self.decode_one(logits):
                    return "eos"
                pending = job.output_ids[-1]
                continue
            room = min(self.budget - stats.tokens_emitted, spec.context_length - self.dec.length) - 1
            if room < 0:
                return "length"
            k = min(self.k_sched.k, room) if job.speculate else 0
            reason = self.speculative_step(pending, k)
            if reason is not None:
                return reason
            pending = job.output_ids[-1]

    def finish(self, reason: str) -> None:
        """Flush held-back text, check the edit still parses, post the run's `done`."""
        job, stats = self.job, self.stats
        complete = reason in ("eos", "length", "error")
        tail = job._stream.flush() if complete else ""
        if job._fence is not None and complete:
            tail = job._fence.feed(tail) + job._fence.finish()
        if job._restore is not None and complete:
            tail = job._restore.push(tail) + job._restore.finish(complete=reason == "eos")
        if tail:
            job.output_text += tail
            t_ms = stats.ms_since_arrival()
            self.post(TokenEvent(job.request_id, len(job.output_ids), tail, 0, t_ms, t_ms))
        if reason == "eos" and stopped_parsing(job.model_code, job.model_text):
            stats.warning = Problem("unparsable", UNPARSABLE)
            self.post(NoticeEvent(job.request_id, "unparsable", stats.warning.message))
        elif reason == "eos" and not job.window and (differs := review_notice(self.spec, job, job.model_text)):
            stats.warning = Problem("not_the_edit", differs)
            self.post(NoticeEvent(job.request_id, "not_the_edit", differs))
        parses = not stopped_parsing(job.model_code, job.model_text) if reason == "eos" else None
        done = stats.done_stats(len(job.output_ids) - stats.tokens_before, len(job.output_ids), parses)
        self.post(DoneEvent(job.request_id, reason, done, job.output_text))


def run_edit_job(dec: Decoder, spec: ModelSpec, job: EditJob, post: Callable[[object], None],
                 wake: Callable[[], None] | None = None) -> None:
    """Run (or continue) `job` to its end, posting TokenEvent/RedirectEvent and one DoneEvent.

    With `wake`, `post` may hold events back until `wake()` hands them over; the loop calls it
    right before each forward pass and prefill (which run outside the GIL), and at the end.
    """
    wake = wake or (lambda: None)
    job.segments += 1
    if job._stream is None:
        job._stream = StreamDecoder(spec.tokenizer, spec.byte_table)
        code = job.model_code
        job._fence = FenceFilter(keep_final_newline=code.endswith("\n") or not code) if spec.chat else None
        job._restore = job.frame.restorer() if job.frame is not None else None
    run = _Run(dec, spec, job, post, wake)
    dec.cancel.clear()  # a stop meant for an earlier job must not cut this one short
    job.running = True
    if job.stop.is_set():  # stopped while queued: no prefill either
        dec.cancel.set()
    try:
        reason = run.loop()
    except Cancelled:
        reason = "stop"
    except ContextOverflow as exc:
        reason = "error"
        run.stats.error = Problem("context_overflow", str(exc))
    except Exception as exc:  # never let a worker failure hang the client
        reason = "error"
        run.stats.error = Problem("engine_error", f"{type(exc).__name__}: {exc}")
    job.running = False
    run.finish(reason)
    wake()
