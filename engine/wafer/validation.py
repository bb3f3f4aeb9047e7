"""The validation table: published single-stream figures against the emulation's predictions.

Every row is predicted from the same shared constants (calibration.py); nothing is set per row
beyond what the publisher states (hardware, model, precision, speculation) and the serving stack
of the row's date. A row whose speculation set-up is not published is predicted twice, without
speculation and with the typical set-up (speculation.py), and shown as that range.

    python -m engine.wafer.validation          # prints the table as Markdown (the README's)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .emulation import emulation
from .placement import WAFER_WIDE
from .serving import ServingOptions
from .speculation import Speculation

TOLERANCE = 0.25
# Public benchmarks streamed short prompts; decode speed barely depends on the length.
PROMPT_TOKENS = 100
# Artificial Analysis measured TTFT with 1,000-token prompts over the internet (methodology page, 2024).
TTFT_PROMPT_TOKENS = 1000
# Public APIs before Sept 2024: a new HTTPS connection per request, no prewarm, host work serial.
API_2024 = ServingOptions(transport="http", prewarm=False, serving_stack="2024", deployment="internet")
# From Sept 2024 on (vLLM 0.6.0, 2024-09-05, and its peers): host work overlapped with the device.
API_LATE_2024 = ServingOptions(transport="http", prewarm=False, serving_stack="overlapped", deployment="internet")

KNOWN = "known"  # the publisher says whether (and how) speculation was used
UNKNOWN = "unknown"  # not published: shown as a range


@dataclass(frozen=True)
class Row:
    """One published figure and how to predict it (every field with its unit)."""

    key: str  # short id used by tests
    hardware: str  # as published
    model: str  # preset name
    precision: str  # weight precision as published (precision.py key)
    who: str  # who measured
    date: str  # when, YYYY-MM
    source: str  # where it is published
    published: float  # tok/s, or ms for a TTFT row
    profile: str  # emulation profile
    speculation: str = "no"  # "no", a description of the published set-up, or UNKNOWN
    spec: Speculation | None = None  # the published set-up when known
    serving: ServingOptions = API_2024  # the serving stack of the row's date
    metric: str = "decode_tok_s"  # or "ttft_ms", or "waferllm" (one layer x layers, no head or host)
    options: dict = field(default_factory=dict)  # further emulation() arguments (wafers, strategy)
    miss: str = ""  # why a known miss misses (empty: none expected)

    @property
    def setup(self) -> str:
        return UNKNOWN if self.speculation == UNKNOWN else KNOWN


def _run(row: Row, speculation: Speculation | None):
    prompt = TTFT_PROMPT_TOKENS if row.metric == "ttft_ms" else PROMPT_TOKENS
    return emulation(row.profile, row.model, prompt, serving=row.serving, speculation=speculation,
                     weight_precision=row.precision, **row.options)


def predict(row: Row) -> tuple[float, float | None]:
    """(prediction without speculation or with the known set-up, upper end for unknown set-ups)."""
    if row.metric == "waferllm":  # WaferLLM's method: one layer's cycles times the layers
        emu = _run(row, None)
        layer_us = next(d for kind, _, d in emu.step_phases() if kind == "layer")
        return 1e6 / (emu.shape.layers * layer_us), None
    if row.metric == "ttft_ms":
        return _run(row, row.spec).ttft_ms, None
    if row.setup == UNKNOWN:
        return _run(row, None).decode_tok_s, _run(row, Speculation()).decode_tok_s_speculative
    emu = _run(row, row.spec)
    return (emu.decode_tok_s_speculative if row.spec else emu.decode_tok_s), None


_CEREBRAS = "Cerebras"
ROWS: list[Row] = [
    Row("wse3-8b", "WSE-3, 1 CS-3", "llama-3.1-8b", "16", "Cerebras; Artificial Analysis", "2024-08",
        "Cerebras Inference launch press release, 2024-08-27", 1800.0, "wse-3"),
    Row("wse2-waferllm-8b", "WSE-2, one layer x 32 at 1.1 GHz", "llama-3.1-8b", "16", "WaferLLM authors", "2025-07",
        "WaferLLM, OSDI 2025", 2700.0, "wse-2", metric="waferllm", options={"strategy": WAFER_WIDE}),
    Row("wse2-waferllm-qwen72b", "WSE-2, one layer x 80 at 1.1 GHz", "qwen2-72b", "16", "WaferLLM authors",
        "2025-07", "WaferLLM, OSDI 2025", 840.0, "wse-2", metric="waferllm", options={"strategy": WAFER_WIDE}),
    Row("h100-8b", "best H100 cloud instance, as 8x H100", "llama-3.1-8b", "16", "Artificial Analysis", "2024-08",
        "Cerebras launch press release, 2024-08-27 (fastest GPU provider)", 242.0, "h100x8"),
    Row("wse3-70b-launch", "WSE-3, 4 CS-3", "llama-3.1-70b", "16", "Cerebras; Artificial Analysis", "2024-08",
        "Cerebras Inference launch press release, 2024-08-27", 450.0, "wse-3", options={"wafers": 4},
        miss="launch software: the same four systems served 2,100 tok/s two months later after a software "
             "update (Cerebras blog, 2024-10-24); the emulation models the mature stack"),
    Row("wse3-70b", "WSE-3, 4 CS-3", "llama-3.1-70b", "16", "Cerebras; Artificial Analysis", "2024-10",
        "Cerebras blog 'Cerebras Inference 3x faster', 2024-10-24", 2100.0, "wse-3", speculation=UNKNOWN,
        serving=API_LATE_2024, options={"wafers": 4}),
    Row("wse3-405b", "WSE-3 cluster", "llama-3.1-405b", "16", "Cerebras; Artificial Analysis", "2024-11",
        "Cerebras blog 'Llama 3.1 405B at 969 tokens/s', 2024-11-18", 969.0, "wse-3", speculation=UNKNOWN,
        serving=API_LATE_2024),
    Row("wse3-405b-ttft", "WSE-3 cluster (TTFT, ms)", "llama-3.1-405b", "16", "Cerebras; Artificial Analysis",
        "2024-11", "Cerebras blog 'Llama 3.1 405B at 969 tokens/s', 2024-11-18", 240.0, "wse-3",
        speculation=UNKNOWN, serving=API_LATE_2024, metric="ttft_ms",
        miss="the emulation is an idle server: 3 internet round trips (120 ms), set-up 15 ms, prefill 4 ms; "
             "queueing on the loaded public service and the measuring client's network path are not published"),
    Row("b200-maverick", "DGX B200 (8 GPUs)", "llama-4-maverick", "fp8", "NVIDIA; Artificial Analysis", "2025-05",
        "NVIDIA blog 'Blackwell breaks the 1,000 TPS/user barrier', 2025-05-22", 1038.0, "b200x8",
        speculation="EAGLE-3, k=3", spec=Speculation(), serving=API_LATE_2024),
    Row("wse3-maverick", "WSE-3 cluster", "llama-4-maverick", "16", "Cerebras; Artificial Analysis", "2025-05",
        "Cerebras press release, 2025-05-28 ('over 2,500 t/s')", 2522.0, "wse-3", speculation=UNKNOWN,
        serving=API_LATE_2024),
    Row("wse3-scout", "WSE-3 cluster", "llama-4-scout", "16", _CEREBRAS, "2025-04",
        "Cerebras press release on Llama 4 Scout, 2025-04", 2600.0, "wse-3", speculation=UNKNOWN,
        serving=API_LATE_2024),
    Row("wse3-qwen3-32b", "WSE-3", "qwen3-32b", "16", _CEREBRAS, "2025-05",
        "Cerebras inference docs, models/qwen-3-32b ('~2100 tokens/sec')", 2100.0, "wse-3", speculation=UNKNOWN,
        serving=API_LATE_2024),
    Row("wse3-qwen3-235b", "WSE-3 cluster", "qwen3-235b-a22b", "16", _CEREBRAS, "2025-07",
        "Cerebras inference docs, models/qwen-3-235b ('~1500 tokens/sec')", 1500.0, "wse-3", speculation=UNKNOWN,
        serving=API_LATE_2024),
    Row("wse3-gpt-oss-120b", "WSE-3", "gpt-oss-120b", "mxfp4", _CEREBRAS, "2025-08",
        "Cerebras launch of gpt-oss-120B, 2025-08 (~3,000 tok/s)", 3000.0, "wse-3", speculation=UNKNOWN,
        serving=API_LATE_2024,
        miss="WSE-3 multiplies 16-bit values only, so MXFP4 weights packed 3.8x denser onto 2 wafers make each "
             "tile's multiply-adds the bound; Cerebras states neither precision nor wafer count, and with 16-bit "
             "weights on 8 wafers the emulation predicts 1,792-3,301 tok/s"),
    Row("wse3-qwen3-coder-480b", "WSE-3 cluster", "qwen3-coder-480b-a35b", "16", _CEREBRAS, "2025-08",
        "Cerebras launch of Qwen3-Coder-480B, 2025-08 (2,000 tok/s)", 2000.0, "wse-3", speculation=UNKNOWN,
        serving=API_LATE_2024),
]


def evaluate(row: Row) -> dict:
    low, high = predict(row)
    if high is None:
        error = low / row.published - 1
        within = abs(error) <= TOLERANCE
    else:
        lo, hi = min(low, high), max(low, high)
        error = 0.0 if lo * (1 - TOLERANCE) <= row.published <= hi * (1 + TOLERANCE) else (
            row.published / hi - 1 if row.published > hi else row.published / lo - 1)
        within = error == 0.0
    return {"row": row, "low": low, "high": high, "error": error, "within": within}


def markdown() -> str:
    lines = ["| Hardware | Model | Precision | Speculation | Who, when | Published | Predicted | Error |",
             "|---|---|---|---|---|---|---|---|"]
    notes = []
    for r in map(evaluate, ROWS):
        row = r["row"]
        unit = " ms" if row.metric == "ttft_ms" else ""
        pred = f"{r['low']:,.0f}{unit}" if r["high"] is None else f"{r['low']:,.0f}–{r['high']:,.0f}"
        err = f"{r['error']:+.0%}" if r["high"] is None else ("in range" if r["within"] else f"{r['error']:+.0%} outside")
        if not r["within"]:
            err += " (miss)"
            notes.append(f"- {row.hardware}, {row.model}: {row.miss}")
        lines.append(f"| {row.hardware} | {row.model} | {row.precision} | {row.speculation} | {row.who}, {row.date} "
                     f"| {row.published:,.0f}{unit} | {pred} | {err} |")
    return "\n".join(lines + ([""] + notes if notes else []))


if __name__ == "__main__":
    print(markdown())
