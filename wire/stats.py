"""`done.stats`: what one run of a request cost, every figure with its unit in its name.

In the spirit of llama.cpp's ``timings`` object. Times are milliseconds on the engine's monotonic
clock from the request's arrival; rates are tokens per second. Fields a backend does not know stay
None and are left out of the message.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass
class Problem:
    """An error or warning carried in `done.stats`."""

    code: str  # machine-readable, e.g. "context_overflow", "degenerate_output", "unparsable", "not_the_edit"
    message: str  # for the user

    def to_message(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class DoneStats:
    # -- tokens --
    tokens_out: int = 0  # output tokens this run sent (all segments folded into this `done`)
    tokens_total: int | None = None  # output tokens of the whole request so far (earlier runs too)
    tokens_computed: int | None = None  # tokens this run computed, when a paced stop cut some unshown
    prompt_tokens: int | None = None  # tokens of the prompt the model read
    cached_tokens: int | None = None  # of prompt_tokens, how many came from the prefix cache
    context_tokens: int | None = None  # the model's context window
    # -- times, ms since the request arrived --
    ttft_ms: float | None = None  # first output token computed (None: none came)
    prefill_ms: float | None = None  # prompt prefill (uncached part), duration
    stop_ms: float | None = None  # when the engine read the stop
    total_ms: float | None = None  # when the run ended
    # -- rates, tokens/s --
    decode_tok_s: float = 0.0  # (tokens_out − 1) / (last token − first token): the decode rate
    e2e_tok_s: float = 0.0  # tokens_out / (last token − arrival): what a client sees, prefill included
    # -- speculation (predicted output) --
    speculate: bool | None = None  # whether speculation was asked for
    draft_accepted_tokens: int = 0  # draft tokens the model confirmed
    draft_proposed_tokens: int = 0  # draft tokens proposed for verification
    verify_passes: int = 0  # verification passes run
    draft_acceptance_ratio: float = 0.0  # draft_accepted_tokens / draft_proposed_tokens (0..1)
    # -- the run --
    redirects: int = 0  # redirects taken while running
    steered_tokens: int = 0  # tokens where a skill's own rule overrode the model's first choice: its
    # draft (given at least a tenth of that choice's probability), or no end before the source's ending
    windows: int | None = None  # windows a long target was edited in (engine/windows.py)
    weights: str | None = None  # weight format that computed it, e.g. "float32"
    out_of_scope: bool = False  # the model was not trained for this instruction (a notice said so)
    parses: bool | None = None  # the edited code still parses (None: not checked)
    error: Problem | None = None  # why it failed (reason "error")
    warning: Problem | None = None  # something the user should know ("unparsable", "not_the_edit")
    # -- a remote backend (engine/backends/remote.py) --
    backend: str | None = None  # "remote" when an endpoint computed the tokens
    transport: str | None = None  # "http" or "websocket" to that endpoint
    upstream_ttft_ms: float | None = None  # first text from the endpoint
    # -- wafer pacing (engine/wafer/pacer.py) --
    profile: str | None = None  # hardware profile that paced the stream
    emulated_model: str | None = None  # model shape the profile emulated
    paced: bool | None = None  # tokens were released at emulated times
    emulated_tok_s: float | None = None  # the emulated decode rate
    emulated_ttft_ms: float | None = None  # the emulated first-token time
    released_ttft_ms: float | None = None  # when the pacer released the first token
    lag_ms: float | None = None  # how far real compute fell behind the emulation, at most
    late_tokens: int | None = None  # tokens released later than their emulated time
    released_tokens: int | None = None  # tokens the pacer released
    # -- replay (engine/backends/replay.py) --
    response_source: str | None = None  # "recorded", "live" or "replay+live"
    response_key: str | None = None  # key of a recorded response

    def update(self, **values: Any) -> None:
        """Set several fields at once; an unknown name is a TypeError, as in the constructor."""
        for name, value in values.items():
            if name not in _NAMES:
                raise TypeError(f"DoneStats has no field {name!r}")
            setattr(self, name, value)

    def to_message(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = value.to_message() if isinstance(value, Problem) else value
        return out

    @classmethod
    def from_message(cls, msg: Any) -> "DoneStats":
        """Read `done.stats` as received; unknown names (a newer engine) and ill-typed values are dropped."""
        stats = cls()
        if not isinstance(msg, dict):
            return stats
        for f in fields(cls):
            value = msg.get(f.name)
            if value is None:
                continue
            if f.name in ("error", "warning"):
                if isinstance(value, dict):
                    setattr(stats, f.name, Problem(str(value.get("code", "error")), str(value.get("message", ""))))
                continue
            default = getattr(stats, f.name)
            kind = _KINDS[f.name]
            if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
                setattr(stats, f.name, float(value))
            elif kind is int and isinstance(value, int) and not isinstance(value, bool):
                setattr(stats, f.name, value)
            elif kind in (bool, str) and isinstance(value, kind):
                setattr(stats, f.name, value)
            else:
                setattr(stats, f.name, default)
        return stats


def _kind(name: str) -> type:
    hint = DoneStats.__annotations__[name]
    for kind in (bool, int, float, str):  # bool before int: "bool | None" names bool
        if hint.startswith(kind.__name__):
            return kind
    return object


_NAMES = frozenset(f.name for f in fields(DoneStats))
_KINDS = {name: _kind(name) for name in _NAMES}
