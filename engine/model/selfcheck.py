"""A short check at load that a model folder's parts fit together.

A tokenizer from another model, a config.json that does not describe the graph, special tokens
the tokenizer lacks, or corrupted weights would otherwise load and serve garbage. The check
costs a few forward passes: a short prompt through the decoder the engine will use and, when that
is the engine's own rewritten graph, through a plain ONNX Runtime run of the folder's graph; the
logits must be finite, shaped like the vocabulary, and agree.
"""

from __future__ import annotations

import numpy as np

from pathlib import Path

from .modelspec import ModelFolderError, ModelSpec, load_spec

SAMPLE = "def add(a, b):\n    return a + b\n"
STEPS = 4  # greedy tokens compared after the prompt
LOGIT_LIMIT = 1e6  # |logit| beyond this means broken weights, not a confident model


def check_tokenizer(spec: ModelSpec) -> None:
    """The tokenizer and special tokens fit the graph's vocabulary."""
    vocab = spec.config.vocab_size
    size = spec.tokenizer.get_vocab_size(with_added_tokens=True)
    if size > vocab:
        raise ModelFolderError(f"{spec.folder}: tokenizer.json has {size} tokens but the model's vocabulary holds "
                               f"{vocab}; the tokenizer belongs to another model")
    for role, tid in spec.special_ids.items():
        if not 0 <= tid < vocab:
            raise ModelFolderError(f"{spec.folder}: special token {spec.special.get(role)!r} has id {tid}, "
                                   f"outside the vocabulary of {vocab}")
    bad_eos = sorted(t for t in spec.eos_ids if not 0 <= t < vocab)
    if bad_eos:
        raise ModelFolderError(f"{spec.folder}: end-of-sequence ids {bad_eos} are outside the vocabulary of {vocab}")


def _run(decoder, spec: ModelSpec, ids: list[int], follow: list[int] | None) -> tuple[list[np.ndarray], list[int]]:
    """Logits of the prompt's last position and of STEPS greedy steps (teacher-forced by `follow`)."""
    zeros = lambda n: {name: np.zeros(n, dtype=np.int64) for name in spec.extra_inputs} or None  # noqa: E731
    decoder.reset()
    rows = [np.asarray(decoder.forward(ids, zeros(len(ids)))[-1], dtype=np.float32)]
    chosen: list[int] = []
    for step in range(STEPS):
        tok = follow[step] if follow is not None else int(np.argmax(rows[-1] + spec.ban_bias))
        chosen.append(tok)
        rows.append(np.asarray(decoder.forward([tok], zeros(1))[-1], dtype=np.float32))
    decoder.reset()
    return rows, chosen


def _check_rows(spec: ModelSpec, rows: list[np.ndarray], what: str) -> None:
    vocab = spec.config.vocab_size
    for row in rows:
        if row.shape != (vocab,):
            raise ModelFolderError(f"{spec.folder}: the graph gives {row.shape[-1]} logits per token but config.json "
                                   f"says vocab_size {vocab}")
        if not np.all(np.isfinite(row)) or float(np.max(np.abs(row))) > LOGIT_LIMIT:
            raise ModelFolderError(f"{spec.folder}: {what} gives non-finite or absurd logits: the weights are damaged")


def self_check(spec: ModelSpec, decoder, threads: int = 1) -> None:
    """Raise ModelFolderError with one clear line when the folder's parts do not fit together."""
    check_tokenizer(spec)
    from .prompts import PromptFormatError, prompt_for

    try:
        ids = prompt_for(spec, "rename a to x", SAMPLE, SAMPLE if spec.file_context else None).ids
    except (PromptFormatError, ValueError, KeyError) as exc:
        raise ModelFolderError(f"{spec.folder}: the engine cannot build a prompt for this model: {exc}") from None
    ids = ids[-max(1, min(len(ids), spec.context_length - STEPS - 1)):]
    if hasattr(decoder, "use") and getattr(decoder, "modes", None):
        decoder.use(decoder.modes["speculative"])  # the float32 format: comparable with a plain run
    rows, chosen = _run(decoder, spec, ids, None)
    _check_rows(spec, rows, "the model")
    from .fastrunner import FastDecoder
    from .runner import OnnxDecoder

    plain = OnnxDecoder(spec, threads=threads) if isinstance(decoder, FastDecoder) else decoder
    past = getattr(plain, "_past_names", None)
    if past is not None and len(past) // 2 != spec.config.num_hidden_layers:
        raise ModelFolderError(f"{spec.folder}: config.json says {spec.config.num_hidden_layers} layers but "
                               f"model.onnx has {len(past) // 2}")
    if plain is decoder:
        return  # the engine runs the folder's own graph: nothing rewritten to compare
    plain_rows, _ = _run(plain, spec, ids, chosen)
    _check_rows(spec, plain_rows, "the folder's graph")
    for i, (fast, plain) in enumerate(zip(rows, plain_rows)):
        scale = 1.0 + float(np.max(np.abs(plain)))
        if float(np.max(np.abs(fast - plain))) > 1e-3 * scale:
            raise ModelFolderError(f"{spec.folder}: the engine's decoder and a plain run of model.onnx disagree at "
                                   f"step {i}; config.json does not describe this graph")


def load_model(model_dir: str | Path, threads: int = 1, check: bool = True):
    """(spec, decoder) of a model folder, self-checked; ModelFolderError with one line when it cannot serve."""
    try:
        from .fastrunner import make_decoder

        spec = load_spec(model_dir)
        with np.errstate(all="ignore"):  # damaged weights overflow while being converted; the check says so
            decoder = make_decoder(spec, threads=threads)
            if check:
                self_check(spec, decoder, threads)
        return spec, decoder
    except ModelFolderError as exc:
        raise ModelFolderError(one_line(str(exc))) from None
    except Exception as exc:  # whatever the libraries raise for a damaged file: one line, no traceback
        raise ModelFolderError(one_line(f"{model_dir}: cannot load the model: {type(exc).__name__}: {exc}")) from None


def one_line(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
