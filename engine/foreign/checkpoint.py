"""Write a family's Hugging Face folder minus the weights: config, tokenizer files, generation config.

Runs without torch; :mod:`engine.foreign.weights` then adds random weights in the Optimum venv.
Token ids in the family tables are written by text and resolved here against the built tokenizer.
"""

from __future__ import annotations

import json
from pathlib import Path

from .families import SMALL, Family
from .tokenizer_build import build_tokenizer

TRANSFORMERS_VERSION = "4.57.6"  # written into the folders as transformers writes it


def _ids(tok, value):
    """Token text (or a list of texts) → id(s); None stays None."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_ids(tok, v) for v in value]
    if isinstance(value, str) and value.startswith("<"):
        tid = tok.token_to_id(value)
        if tid is None:
            raise ValueError(f"{value!r} is not in the tokenizer")
        return tid
    return value


def _dump(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_checkpoint(family: Family, out: Path, overrides: dict | None = None) -> Path:
    """Write config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
    generation_config.json (and chat_template.jinja where the family ships one) into `out`.

    `overrides` replaces config shapes (the benchmark's real-size model)."""
    out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(family)
    n_tokens = tok.get_vocab_size(with_added_tokens=True)
    config = {**SMALL, **{k: _ids(tok, v) if k.endswith("_token_id") else v for k, v in family.config.items()}}
    config["vocab_size"] = -(-n_tokens // 32) * 32  # padded like the published vocabularies
    config.update(overrides or {})
    config["transformers_version"] = TRANSFORMERS_VERSION
    _dump(out / "config.json", config)
    tok.save(str(out / "tokenizer.json"))

    added = json.loads(tok.to_str())["added_tokens"]
    tcfg = {"added_tokens_decoder": {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip",
                                                                       "single_word", "special")} for t in added}}
    tcfg.update(family.tokenizer_config)
    if family.template_file:
        (out / "chat_template.jinja").write_text(family.chat_template, encoding="utf-8")
    else:
        tcfg["chat_template"] = family.chat_template
    _dump(out / "tokenizer_config.json", tcfg)
    smap = {k: family.tokenizer_config[k] for k in ("bos_token", "eos_token", "pad_token", "unk_token")
            if family.tokenizer_config.get(k)}
    _dump(out / "special_tokens_map.json", smap)
    gen = {k: _ids(tok, v) if k.endswith("_token_id") else v for k, v in family.generation.items()}
    gen["transformers_version"] = TRANSFORMERS_VERSION
    _dump(out / "generation_config.json", gen)
    return out
