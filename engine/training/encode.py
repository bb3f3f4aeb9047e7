"""Turn edit pairs into training sequences: prompt ids (the engine's own prompt builder), the
teacher-forced output, the aligner's features at every position, and where the loss starts.

Robustness to drift: in a fraction of sequences one output input token is corrupted (half by a
source token, half by any token) while the targets stay right; the aligner follows the corrupted
prefix, so the model learns to recover when its pointer is off by one mistake.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer

from ..model.align import FEATURES, aligner_for
from ..model.prompts import build_edit_prompt
from ..skills import EditPair, predicted_text
from ..skills.tokens import Vocabulary
from .tokenizer import SPECIAL

CORRUPT_FRACTION = 0.2  # of sequences with one corrupted output input token


@dataclass
class Encoded:
    ids: np.ndarray  # int16 [total tokens], all sequences' inputs back to back
    labels: np.ndarray  # int16 [total tokens], next token; -1 where no loss
    features: dict  # name → int16 [total tokens]
    offsets: np.ndarray  # int64 [n + 1], sequence boundaries
    kinds: list  # per sequence, the pair kind

    def save(self, path) -> None:
        np.savez(path, ids=self.ids, labels=self.labels, offsets=self.offsets, kinds=np.array(self.kinds),
                 **{f"f_{k}": v for k, v in self.features.items()})

    @classmethod
    def load(cls, path) -> "Encoded":
        z = np.load(path)
        feats = {k: z[f"f_{k}"] for k in FEATURES}
        return cls(z["ids"], z["labels"], feats, z["offsets"], list(z["kinds"]))


def encode_pair(tok: Tokenizer, vocab: Vocabulary, pair: EditPair, rng: random.Random | None,
                max_len: int) -> tuple[list[int], list[int], dict[str, list[int]]] | None:
    """(inputs, labels, features) of one pair, or None when it does not fit in max_len. The draft is
    the skill's rule written in the source's text where the kind has one (engine/skills
    ``predicted_text``), else the token-level draft."""
    prompt = build_edit_prompt(tok, SPECIAL, pair.instruction, pair.source)
    end = tok.token_to_id(SPECIAL["end"])
    target = tok.encode(pair.target, add_special_tokens=False).ids + [end]
    if len(prompt.ids) + len(target) - 1 > max_len:
        return None
    outputs = target[:-1]  # output tokens fed back as inputs
    if rng is not None and outputs and rng.random() < CORRUPT_FRACTION:
        j = rng.randrange(len(outputs))
        outputs = list(outputs)
        if rng.random() < 0.5 and prompt.source_ids:
            outputs[j] = rng.choice(prompt.source_ids)
        else:
            outputs[j] = rng.randrange(len(SPECIAL), tok.get_vocab_size())
    predicted = predicted_text(pair.kind, pair.source, pair.instruction)  # as the engine (engine/decode/drafts.py)
    al = aligner_for(vocab, prompt.source_ids, prompt.instruction_ids,
                     tok.encode(predicted, add_special_tokens=False).ids if predicted is not None else None)
    first = al.next_features()
    pad = vocab.pad
    n_prompt = len(prompt.ids)
    feats = {k: [pad] * (n_prompt - 1) + [first[k]] for k in FEATURES}
    for t in outputs:
        al.push(t)
        f = al.next_features()
        for k in FEATURES:
            feats[k].append(f[k])
    inputs = prompt.ids + outputs
    labels = [-1] * (n_prompt - 1) + target
    return inputs, labels, feats


def encode_pairs(tok: Tokenizer, vocab: Vocabulary, pairs: list[EditPair], seed: int, max_len: int,
                 corrupt: bool = True) -> Encoded:
    rng = random.Random(seed) if corrupt else None
    ids, labels, kinds = [], [], []
    feats = {k: [] for k in FEATURES}
    offsets = [0]
    for pair in pairs:
        enc = encode_pair(tok, vocab, pair, rng, max_len)
        if enc is None:
            continue
        i, lab, f = enc
        ids += i
        labels += lab
        for k in FEATURES:
            feats[k] += f[k]
        offsets.append(len(ids))
        kinds.append(pair.kind)
    return Encoded(np.asarray(ids, np.int16), np.asarray(labels, np.int16),
                   {k: np.asarray(v, np.int16) for k, v in feats.items()}, np.asarray(offsets, np.int64), kinds)
