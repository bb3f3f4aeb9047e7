"""Redirect latency: Enter on a new instruction → first token of the redirected edit painted.

    python benchmarks/bench_redirect.py [--runs N] [--model DIR] [--json]

Real app, real engine child process, real WebSocket (offscreen Qt). Each run starts an edit, waits
for it to stream, then types a redirect and presses Enter (mid-stream), and, after a stop, once more
(redirect after stop). The clock starts at Enter and stops when the diff pane has painted the first
token that follows the new instruction. Reports medians (and p10/p90) over the runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from app_session import DEMO_SOURCE, run_app, until

from engine.model.modelspec import MODELS_DIR

TEST_MODEL = MODELS_DIR / "tiny-random"


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]  # noqa: E731
    return {"runs": len(ordered), "median_ms": round(statistics.median(ordered), 1),
            "p10_ms": round(pick(0.1), 1), "p90_ms": round(pick(0.9), 1),
            "min_ms": round(ordered[0], 1), "max_ms": round(ordered[-1], 1)}


async def measure(window, runs: int, warmup: int) -> dict[str, dict[str, float]]:
    c = window.controller
    demo = Path(tempfile.mkdtemp()) / "shapes.py"
    demo.write_text(DEMO_SOURCE, encoding="utf-8")
    window.open_path(str(demo))
    cursor = window.editor.textCursor()
    cursor.setPosition(DEMO_SOURCE.index("return math.pi"))
    window.editor.setTextCursor(cursor)
    c.configure(max_tokens=100_000)
    c.configure(seed=7, temperature=1.0)
    mid_stream: list[float] = []
    after_stop: list[float] = []

    def enter(text: str) -> None:
        window.bar.field.setText(text)
        window.bar.field.returnPressed.emit()  # what the Enter key triggers

    for i in range(warmup + runs):
        previous = c.run
        enter("Convert string formatting to f-strings")
        await until(lambda: c.run is not previous and c.run.tokens > 30, what="first tokens")
        seen = len(c.redirect_latencies_ms)
        enter("Also remove the debug prints")
        await until(lambda: len(c.redirect_latencies_ms) > seen, what="redirected token painted")
        if i >= warmup:
            mid_stream.append(c.redirect_latencies_ms[-1])
        window.bar.stop_button.click()
        await until(lambda: c.mode == "stopped", what="stop")
        seen = len(c.redirect_latencies_ms)
        enter("Add type hints")
        await until(lambda: len(c.redirect_latencies_ms) > seen, what="redirect after stop painted")
        if i >= warmup:
            after_stop.append(c.redirect_latencies_ms[-1])
        window.bar.stop_button.click()
        await until(lambda: c.mode == "stopped", what="final stop")
        window.controller.reject_all()
    return {"mid_stream": summary(mid_stream), "after_stop": summary(after_stop)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--model", default=str(TEST_MODEL),
                        help="model folder (default: the random-weight test model, whose edits "
                             "never end early, so every run can redirect mid-stream)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run_app(lambda w: measure(w, args.runs, args.warmup), args.model)
    if args.json:
        print(json.dumps(result))
        return
    for name, stats in result.items():
        print(f"redirect {name:10s}: median {stats['median_ms']:7.1f} ms   p10 {stats['p10_ms']:7.1f}   "
              f"p90 {stats['p90_ms']:7.1f}   min {stats['min_ms']:7.1f}   max {stats['max_ms']:7.1f}   "
              f"({stats['runs']} runs)")


if __name__ == "__main__":
    main()
