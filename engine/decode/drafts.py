"""Where a run's drafts come from: the model's own aligner (draft-conditioned models) or prompt lookup."""

from __future__ import annotations

import numpy as np

from ..model.modelspec import ModelSpec
from ..model.prompts import encode
from .job import EditJob
from .speculative import PromptLookup


class Drafts:
    """Extra per-position inputs (draft ids) for models that declare them; no-op otherwise."""

    def __init__(self, spec: ModelSpec, source_ids: list[int], instruction_ids: list[int],
                 predicted: list[int] | None = None, ending: str = ""):
        self.names = spec.extra_inputs
        self.aligner = None
        self._ghost = None  # (aligner clone that pushed the last proposal, that proposal)
        self.use_lookup = False  # draft from prompt lookup even when the aligner could (a client's prediction)
        self.kept: list[int] = []  # the source's own tokens before the first change its skill's rule makes
        # The skill's rule wrote the whole predicted output (``predicted``): its draft is trusted
        # (engine/decode/loop.py ``_Run.steer``), and the output may end only once it ends as the
        # source does after the rule's last change (``ending``).
        self.trusted = predicted is not None and bool(self.names)
        self.ending = ending if self.trusted else ""
        if predicted is not None:
            n = 0
            while n < min(len(source_ids), len(predicted)) and source_ids[n] == predicted[n]:
                n += 1
            self.kept = list(predicted[:n]) if n < len(predicted) else []
        if self.names:
            from ..model.align import make_aligner  # the model's own alignment, shared with training

            self.aligner = make_aligner(spec.aligner or {}, source_ids, instruction_ids, predicted)

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


def skill_text(spec: ModelSpec, job: EditJob) -> str | None:
    """The output a skill's own rule predicts for the job's code, where the skill writes it in the
    source's text (engine/skills ``predicted_text``). None for other skills and models."""
    if not spec.extra_inputs or not spec.skills:  # a client's prediction only drafts speculation
        return None
    from ..skills import predicted_text

    found = spec.skill_for(job.model_instruction)
    return predicted_text(found.name, job.model_code, job.model_instruction) if found is not None else None


def skill_prediction(spec: ModelSpec, job: EditJob) -> list[int] | None:
    """The tokens of `skill_text`: the draft-conditioned model is shown them in place of the
    token-level draft."""
    text = skill_text(spec, job)
    return encode(spec.tokenizer, text) if text is not None else None


def ending_of(source: str, predicted: str) -> str:
    """How the output must end: the text the source and the rule's prediction end with alike (what
    follows the rule's last change), within their last line, trailing whitespace aside. A small
    model tends to stop one closing bracket early on a statement it joined from several lines."""
    a, b = source.rstrip(), predicted.rstrip()
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    tail = a[len(a) - n:]
    return tail[tail.rfind("\n") + 1:]


def lookup_for(job: EditJob, drafts: Drafts, source_ids: list[int], spec: ModelSpec) -> PromptLookup | None:
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
