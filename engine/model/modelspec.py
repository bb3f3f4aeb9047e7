"""A model folder: ONNX decoder + config.json (or genai_config.json) + tokenizer.json (+ tessera.json).

``tessera.json`` declares everything model-specific the engine must know (prompt format, special
tokens, extra draft inputs and their aligner, skills), so nothing about a bundled model is
hard-coded in the engine. Folders without it (Optimum and onnxruntime-genai exports of chat
models) are read as their own tools read them: see :mod:`engine.model.foreign_folder`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from .graph import DecoderConfig
from .tokenizer import load_tokenizer, token_byte_table

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
MODELS_DIR = RESOURCES / "models"
DEFAULT_MODEL_NAMES = ("tessera-edit-mini", "tiny-random")

DEFAULT_SPECIAL = {"file": "<file>", "code": "<code>", "instr": "<instr>", "edit": "<edit>",
                   "end": "<end>", "pad": "<pad>"}


class ModelFolderError(ValueError):
    """A model folder is missing a file or holds one that cannot be used."""


@dataclass
class Skill:
    name: str  # e.g. "rename_variable"
    pattern: re.Pattern  # full, case-insensitive match of the instruction
    example: str = ""  # an instruction the app can offer


@dataclass
class ModelSpec:
    folder: Path  # the model folder
    name: str  # display name
    onnx_path: Path  # the decoder graph
    config: DecoderConfig  # shapes
    tokenizer: Tokenizer  # HF tokenizers object
    special: dict[str, str]  # role → special token text
    special_ids: dict[str, int]  # role → token id
    extra_inputs: list[str] = field(default_factory=list)  # extra int64 graph inputs (drafts)
    aligner: dict | None = None  # aligner spec for engine.model.align.make_aligner
    skills: list[Skill] = field(default_factory=list)  # instructions the model was trained for
    out_of_scope_notice: str = ""  # shown when an instruction matches no skill
    file_context: bool = False  # whether the model was trained with a <file> section
    eos_ids: set[int] = field(default_factory=set)  # tokens that end the output
    chat: object | None = None  # engine.model.chat_template.ChatFormat for chat models (else edit-v1)
    sliding_window: int | None = None  # local attention window in tokens, where the model has one

    @cached_property
    def byte_table(self) -> list | None:
        """Raw bytes per token id (byte-level tokenizers), for UTF-8-safe streaming."""
        return token_byte_table(self.tokenizer)

    @cached_property
    def ban_bias(self) -> np.ndarray:
        """-inf on tokens an edit must never contain: prompt markers and ids the tokenizer lacks."""
        bias = np.zeros(self.config.vocab_size, dtype=np.float32)
        bias[self.tokenizer.get_vocab_size(with_added_tokens=True):] = -np.inf
        for tid in self.special_ids.values():
            if tid not in self.eos_ids and tid < bias.size:
                bias[tid] = -np.inf
        return bias

    @cached_property
    def max_token_chars(self) -> int:
        """The longest token's text in characters: no token covers more of a document.

        Added (special) tokens are left out: the engine's tokenizer never matches them in text.
        """
        return max((len(t) for t in self.tokenizer.get_vocab(with_added_tokens=False)), default=1)

    def tokens_beyond(self, text: str, limit: int) -> int | None:
        """A lower bound on the tokens of `text` when it certainly holds more than `limit`, else None.

        Encodes only a prefix long enough for `limit` tokens (plus a margin for the word the cut
        splits), so an oversized document costs what one full context costs, not its own size.
        """
        window = (limit + 16) * self.max_token_chars
        if len(text) <= window:
            return None
        n = len(self.tokenizer.encode(text[:window], add_special_tokens=False).ids)
        return n if n > limit + 8 else None

    @property
    def context_length(self) -> int:
        return self.config.max_position_embeddings

    def skill_for(self, instruction: str) -> Skill | None:
        """The skill an instruction belongs to; None when out of scope (or no skills declared)."""
        text = " ".join(instruction.split())
        return next((s for s in self.skills if s.pattern.fullmatch(text)), None)

    def describe(self) -> dict:
        return {"name": self.name, "context_length": self.context_length,
                "skills": [{"name": s.name, "example": s.example} for s in self.skills],
                "layers": self.config.num_hidden_layers, "hidden_size": self.config.hidden_size}


def default_model_dir() -> Path:
    for name in DEFAULT_MODEL_NAMES:
        d = MODELS_DIR / name
        if (d / "config.json").is_file():
            return d
    raise ModelFolderError(f"no bundled model found under {MODELS_DIR}")


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFolderError(f"{path.parent}: missing {path.name}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFolderError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelFolderError(f"{path}: expected a JSON object")
    return data


# tessera.json fields and the JSON types they must have
_META_TYPES = {"name": str, "special_tokens": dict, "extra_inputs": list, "aligner": dict, "skills": list,
               "out_of_scope_notice": str, "file_context": bool}


def _check_meta(path: Path, meta: dict) -> None:
    for key, kind in _META_TYPES.items():
        if meta.get(key) is not None and not isinstance(meta[key], kind):
            raise ModelFolderError(f"{path}: '{key}' must be a JSON {kind.__name__}")
    for key, values in (("special_tokens", (meta.get("special_tokens") or {}).values()),
                        ("extra_inputs", meta.get("extra_inputs") or ())):
        if not all(isinstance(v, str) for v in values):
            raise ModelFolderError(f"{path}: '{key}' must hold strings")
    if not all(isinstance(s, dict) for s in meta.get("skills") or ()):
        raise ModelFolderError(f"{path}: each skill must be an object with 'name' and 'pattern'")


def load_spec(folder: str | Path) -> ModelSpec:
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ModelFolderError(f"model folder {folder} does not exist")
    if not (folder / "tessera.json").is_file():
        from .foreign_folder import is_foreign, load_foreign_spec

        if is_foreign(folder):
            return load_foreign_spec(folder)
    onnx_files = [folder / "model.onnx"] + sorted(folder.glob("*.onnx"))
    onnx_path = next((p for p in onnx_files if p.is_file()), None)
    if onnx_path is None:
        raise ModelFolderError(f"{folder}: no .onnx file")
    try:
        config = DecoderConfig.from_dict(_read_json(folder / "config.json"))
    except (TypeError, ValueError) as exc:
        raise ModelFolderError(f"{folder / 'config.json'}: {exc}") from None
    try:
        tokenizer = load_tokenizer(folder / "tokenizer.json")
    except (FileNotFoundError, ValueError) as exc:
        raise ModelFolderError(str(exc)) from None
    meta = _read_json(folder / "tessera.json") if (folder / "tessera.json").is_file() else {}
    _check_meta(folder / "tessera.json", meta)
    special = dict(meta.get("special_tokens") or DEFAULT_SPECIAL)
    special_ids = {}
    for role, text in special.items():
        tid = tokenizer.token_to_id(text)
        if tid is not None:
            special_ids[role] = tid
    missing = [special[r] for r in ("code", "instr", "edit", "end") if r in special and r not in special_ids]
    if missing and not meta:
        raise ModelFolderError(
            f"{folder}: no chat template (tokenizer_config.json 'chat_template' or chat_template.jinja), no "
            f"tessera.json, and the tokenizer lacks the edit-v1 tokens {missing}: the engine cannot build a prompt")
    eos = {special_ids["end"]} if "end" in special_ids else set()
    for key in ("eos_token_id",):
        raw = _read_json(folder / "config.json").get(key)
        for tid in (raw if isinstance(raw, list) else [raw] if raw is not None else []):
            eos.add(int(tid))
    skills = []
    for s in meta.get("skills", []):
        try:
            skills.append(Skill(s["name"], re.compile(s["pattern"], re.IGNORECASE), s.get("example", "")))
        except (KeyError, re.error) as exc:
            raise ModelFolderError(f"{folder / 'tessera.json'}: bad skill {s!r}: {exc}") from None
    return ModelSpec(
        folder=folder, name=str(meta.get("name") or folder.name), onnx_path=onnx_path, config=config,
        tokenizer=tokenizer, special=special, special_ids=special_ids,
        extra_inputs=list(meta.get("extra_inputs", [])), aligner=meta.get("aligner"), skills=skills,
        out_of_scope_notice=str(meta.get("out_of_scope_notice", "")),
        file_context=bool(meta.get("file_context", False)), eos_ids=eos,
    )
