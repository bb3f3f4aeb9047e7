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
    client chose); by default the loaded model's own shape.
    """
    if not profile or profile == LOCAL:
        return None, None
    from ..wafer.emulation import emulation
    from ..wafer.pacer import Pacer
    from ..wafer.trace import ActivityTrace

    spec = engine.spec
    if emulate_model is not None and not emulate_allowed(emulate_model):
        raise ValueError(f"unknown model to emulate {emulate_model!r}")
    text = job.file_context if job.file_context is not None else job.model_code
    over = spec.tokens_beyond(text, spec.context_length)  # a huge document: never tokenized whole here
    prompt_tokens = over if over is not None else len(job.prompt(spec).ids)
    shape = emulate_model or own_shape(spec.folder)
    emu = emulation(profile, shape, prompt_tokens=prompt_tokens)
    pacer = Pacer(emu)
    pacer.start(job.t_arrival)
    trace = ActivityTrace(emu)
    rid = job.request_id
    sent_layout = False

    async def pace(n_tokens: int) -> None:
        nonlocal sent_layout
        if not sent_layout:
            sent_layout = True
            await send({"type": "tiles", "request": rid, "layout": trace.layout(), "emulation": emu.summary()})
        await pacer.wait_release(n_tokens)
        frame = trace.next_frame(pacer.emulated_now_ms())
        if frame is not None:
            frame["tokens"] = n_tokens  # the request's real count, not the trace's estimate
            await send({"type": "tiles", "request": rid, "frame": frame})

    return pace, pacer.stats
