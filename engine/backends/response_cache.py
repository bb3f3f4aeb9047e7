"""The response cache of studies: what the real engine answered, keyed by model + prompt.

`ResponseCache` maps a SHA-256 of the model's name and the edit prompt's token ids to the tokens
the engine produced for it: id, text and draft flag per token event, so a replay
(engine/backends/replay.py) yields byte-identical token events.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..model.prompts import build_edit_prompt

FORMAT = 1  # cache file format version


@dataclass
class Response:
    """One recorded output."""

    tokens: list  # [token id or None (a flushed tail), text, draft 0/1] per token event
    reason: str  # how the recorded run ended: eos / length
    model: str  # the model's name when recorded

    @property
    def text(self) -> str:
        return "".join(t[1] for t in self.tokens)


class ResponseCache:
    """A JSON file of recorded responses keyed by model + prompt; saved atomically."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.entries: dict[str, Response] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("format") != FORMAT:
                    raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
                self.entries = {k: Response(v["tokens"], v["reason"], v["model"])
                                for k, v in data["entries"].items()}
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"{self.path} is not a response cache: {exc}") from None

    @staticmethod
    def key(model: str, prompt_ids: list[int]) -> str:
        blob = json.dumps([model, list(prompt_ids)], separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()

    def get(self, key: str) -> Response | None:
        return self.entries.get(key)

    def put(self, key: str, response: Response) -> None:
        self.entries[key] = response

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "entries": {k: {"tokens": r.tokens, "reason": r.reason, "model": r.model}
                                              for k, r in sorted(self.entries.items())}}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".responses-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        os.chmod(tmp, 0o644)  # a study resource, read by whoever runs the study
        os.replace(tmp, self.path)


def prompt_key(spec, job) -> tuple[str, int]:
    """(cache key, prompt tokens) of a request: the key hashes the model's name and the prompt's ids."""
    prompt = build_edit_prompt(spec.tokenizer, spec.special, job.instruction, job.code, job.file_context)
    return ResponseCache.key(spec.name, prompt.ids), len(prompt.ids)
