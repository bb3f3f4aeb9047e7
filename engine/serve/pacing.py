"""Connects the wafer emulation's pacer and activity trace to a request's stream.

The engine's tokens are real; the emulation decides when the client sees them. Kept apart from
the server so that the server knows nothing of hardware models.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable


LOCAL = "local"


def profile_names() -> list[str]:
    """Hardware profiles a client may pass as ``profile``; ``local`` means no pacing."""
    from ..wafer.profiles import PROFILES

    names = list(PROFILES)
    return names if LOCAL in names else [*names, LOCAL]


def emulate_models() -> list[dict]:
    """Model shapes a client may pass as ``emulate``: name, label and whether it is a mixture of experts."""
    from ..wafer.presets import PRESETS, preset_label

    return [{"name": name, "label": preset_label(name), "moe": shape.is_moe} for name, shape in PRESETS.items()]


def emulate_names() -> list[str]:
    """Model shapes a client may name in ``emulate``: the published presets and the bundled model.

    Only names: a client never makes the engine read a path of its choosing.
    """
    from ..wafer.presets import BUNDLED, PRESETS

    return [*PRESETS, BUNDLED]


def emulate_allowed(name: str) -> bool:
    return name.strip().lower() in emulate_names()


def own_shape(folder):
    """The loaded model's shape for the emulation: its config.json, else its genai_config.json."""
    config = folder / "config.json"
    if config.is_file():
        return str(config)
    from ..model.foreign_folder import genai_shape_config
    from ..wafer.hfconfig import shape_from_config

    genai = genai_shape_config(folder)
    if genai is None:
        return str(config)  # the emulation names the missing file
    return shape_from_config(genai, name=folder.name, source=str(folder / "genai_config.json"))


def make_pacing(engine, profile: str, job, send: Callable[[dict], Awaitable[None]],
                emulate_model: str | None = None):
    """(pace(n) → awaitable, stats() → dict) for one request, or (None, None) without pacing.

    `emulate_model` names the model shape to emulate (one of `emulate_names()`; never a path a
    client chose); by default the loaded model's own shape. The emulated hardware prefills the
    prompts the engine runs: a long target's windows each prefill their own prompt (`RequestPacing`).
    """
    if not profile or profile == LOCAL:
        return None, None
    from ..wafer.presets import resolve_shape

    if emulate_model is not None and not emulate_allowed(emulate_model):
        raise ValueError(f"unknown model to emulate {emulate_model!r}")
    if job.refusal:
        return None, None  # nothing runs: the engine's own refusal says what to do
    shape = resolve_shape(emulate_model or own_shape(engine.spec.folder))
    # A window beyond the context is a long statement the edit passes on unchanged: it never runs.
    counts = [prompt_tokens(engine.spec, run) for run in (job.windows or [job])]
    if all(n is None for n in counts):
        return None, None  # beyond the loaded model's context: the engine refuses it with its figures
    emulations = [None if n is None else prompt_emulation(profile, shape, n) for n in counts]
    pacing = RequestPacing(engine.spec, profile, shape, job, emulations, send)
    return pacing, pacing.stats


def prompt_tokens(spec, run) -> int | None:
    """Tokens of the prompt the engine runs for `run`; None when beyond the loaded model's context."""
    text = run.file_context if run.file_context is not None else run.model_code
    if spec.tokens_beyond(text, spec.context_length) is not None:  # a huge document: never tokenized whole here
        return None
    n = len(run.prompt(spec).ids)
    return n if n <= spec.context_length else None


def prompt_emulation(profile: str, shape, prompt_tokens: int):
    """The emulation of `shape` on `profile` prefilling a prompt of `prompt_tokens`; ValueError saying what to do."""
    from ..wafer.emulation import emulation

    if prompt_tokens > shape.max_context:
        raise ValueError(
            f"the prompt of {prompt_tokens} tokens is longer than {shape.name}'s context of {shape.max_context} "
            "tokens; emulate a model with a longer context, or select less code")
    return emulation(profile, shape, prompt_tokens=prompt_tokens)


class RequestPacing:
    """Paces one request's tokens to the emulated hardware and sends its activity frames.

    Call it as ``pace(n)`` (an awaitable that releases the n-th token); `begin_window` tells it
    that a long target's window is about to run, so that window's prompt is prefilled anew.
    `stats` gives the pacing figures for `done`.
    """

    def __init__(self, spec, profile: str, shape, job, emulations: list, send: Callable[[dict], Awaitable[None]]):
        from ..wafer.pacer import Pacer
        from ..wafer.trace import ActivityTrace

        self._spec, self._profile, self._shape = spec, profile, shape
        self._emulations = emulations  # one per run of the request (per window of a long target; None: never runs)
        self._first = next(emu for emu in emulations if emu is not None)
        self._send = send
        self._rid = job.request_id
        self._pacer = Pacer(self._first)
        self._pacer.start(job.t_arrival)
        self._trace = ActivityTrace(self._first)
        self._sent_layout = False
        self.stats = self._pacer.stats

    def begin_window(self, index: int, window, tokens_before: int) -> None:
        """Window `index` of a long target runs next, after `tokens_before` tokens of the request."""
        while len(self._emulations) <= index:  # a redirect cut the windows anew, into more of them
            self._emulations.append(None)
        emu = self._emulations[index]
        n = prompt_tokens(self._spec, window)  # a redirect between windows changes the prompt
        if n is not None and (emu is None or n != emu.prompt_tokens):
            try:
                emu = self._emulations[index] = prompt_emulation(self._profile, self._shape, n)
            except ValueError:
                pass  # only the timing of one window: keep the estimate made at arrival
        if emu is not None:  # else the engine refuses this window's prompt itself
            self._pacer.next_run(emu, tokens_before)

    def __call__(self, n_tokens: int):
        return self._pace(n_tokens)

    async def _pace(self, n_tokens: int) -> None:
        if not self._sent_layout:
            self._sent_layout = True
            await self._send({"type": "tiles", "request": self._rid, "layout": self._trace.layout(),
                              "emulation": self._pacer.emulation.summary()})
        await self._pacer.wait_release(n_tokens)
        frame = self._trace.next_frame(self._pacer.emulated_now_ms())
        if frame is not None:
            frame["tokens"] = n_tokens  # the request's real count, not the trace's estimate
            await self._send({"type": "tiles", "request": self._rid, "frame": frame})
