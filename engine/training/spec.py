"""The model folder's ``tessera.json``: prompt format, special tokens, extra inputs, the aligner's
vocabulary facts, and the skills the model was trained for."""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Tokenizer

from ..model.align import FEATURES
from ..skills import SKILLS, TRIGGERS
from ..skills.docstring import DEFAULT_HEAD, verb_heads
from ..skills.out_of_scope import NOTICE as OUT_OF_SCOPE_NOTICE
from ..skills.prints import PRINT_HEAD
from .tokenizer import PRETOKEN_PATTERN, SPECIAL, SPECIAL_TOKENS, token_classes

NAME = "tessera-edit-mini"


def _run(tok: Tokenizer, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False).ids


def aligner_spec(tok: Tokenizer) -> dict:
    words, newlines = token_classes(tok)
    underscores = [i for i in words if set(tok.decode([i])) == {"_"}]
    punct: dict[str, list[int]] = {}
    for i in range(tok.get_vocab_size()):
        text = tok.decode([i]).strip(" ")
        if len(text) == 1 and text in "'\"{}()[]%,.=:!*":
            punct.setdefault(text, []).append(i)

    def one(text: str) -> int:
        ids = _run(tok, text)
        if len(ids) != 1:
            raise ValueError(f"{text!r} is not a single token of this vocabulary")
        return ids[0]

    def runs(phrases: tuple[str, ...]) -> list[list[int]]:
        """Token runs of trigger phrases; one that starts with a space as it tokenizes after a word
        ("convert to f-strings" → " to f-strings")."""
        return [_run(tok, "x" + t)[1:] if t.startswith(" ") else _run(tok, t) for t in phrases]

    heads = [[_run(tok, verb), _run(tok, head)] for verb, head in verb_heads()]
    return {
        "kind": "edit-draft-v1",
        "pad": tok.token_to_id(SPECIAL["pad"]),
        "end": tok.token_to_id(SPECIAL["end"]),
        "word_ids": words,
        "newline_ids": newlines,
        "triggers": {name: [runs(group) for group in groups] for name, groups in TRIGGERS.items()},
        "rename_separator": _run(tok, "a to b")[1:-1],
        "print_head": _run(tok, PRINT_HEAD)[:2],
        "def_ids": sorted({_run(tok, "def f")[0], _run(tok, "async def f")[-2]}),
        "skip_words": sorted(one(w) for w in ("self", "cls")),
        "punct": punct,
        # printable ASCII is spelled as itself in a byte-level vocabulary
        "bare": {**{c: one(c) for c in "'\"{}!:f.="}, '"""': one('"""'),
                 " ": one(" "), ", ": one(", "), " given ": _run(tok, "a given b")[1], "pass": _run(tok, ":\n    pass")[-1], " and ": _run(tok, "a and b")[1]},
        "token_text": {str(i): tok.decode([i]) for i in range(len(SPECIAL_TOKENS), tok.get_vocab_size())},
        "pretoken_pattern": PRETOKEN_PATTERN,
        "heads": heads,
        "default_head": _run(tok, DEFAULT_HEAD),
        "underscore_ids": underscores,
    }


def tessera_json(tok: Tokenizer, context_length: int) -> dict:
    return {
        "name": NAME,
        "format": "edit-v1",
        "special_tokens": dict(SPECIAL),
        "file_context": False,
        "extra_inputs": list(FEATURES),
        "aligner": aligner_spec(tok),
        "context_length": context_length,
        "skills": SKILLS,
        "out_of_scope_notice": OUT_OF_SCOPE_NOTICE,
    }


def write(path: Path, tok: Tokenizer, context_length: int) -> None:
    path.write_text(json.dumps(tessera_json(tok, context_length), indent=1) + "\n")
