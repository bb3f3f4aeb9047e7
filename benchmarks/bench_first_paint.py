"""First paint: Enter → first token painted in the app, against the engine's own first-token time.

    QT_QPA_PLATFORM=offscreen PYTHONPATH=$PWD python3 benchmarks/bench_first_paint.py [--runs N] [--model DIR]
        [--json] [--profile FILE]

Real app widgets (offscreen Qt), real engine child process, real WebSocket. Two files: a small
module and a large real one read at run time from the installed standard library
(`_pydecimal.py`, 6,400 lines; not copied into the repo). Two ways to press Enter on each: with
the engine already holding the text (`synced`), and right after typing into the document
(`typed`: the engine has not seen the change yet). The app's TTFT runs from the Enter key to the
moment the diff pane has painted the first token; the engine's is `done.stats.ttft_ms` (from the
arrival of `generate`). The gap between them is what the app and the transport add; the time the
first token reached the controller splits it into sending and receiving vs painting. Medians over
the runs (after warm-up runs). `--profile FILE` writes a cProfile of the measured runs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import statistics
import sysconfig
import time
import tempfile
from pathlib import Path

from app_session import DEMO_SOURCE, run_app, until

LARGE_MODULE = "_pydecimal.py"  # 6,425 lines in CPython 3.11
LARGE_ANCHOR = "    def to_eng_string(self, context=None):"  # the method the cursor sits in
SMALL_ANCHOR = "return math.pi"
PAUSE_S = 0.3  # between the previous edit's end and the next keystroke or Enter
INSTRUCTION = "add a docstring"  # a skill of the bundled model: a real edit, not an out-of-scope notice


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


async def _one(window, typed: bool, mark: int) -> tuple[float, float, float, float] | None:
    """One Enter: (app TTFT, engine TTFT, Enter → first token received, Enter → `generate` sent) in ms;
    None when no token came."""
    c = window.controller
    await asyncio.sleep(PAUSE_S)  # a user reads the screen before acting; the window settles
    if typed:  # a keystroke just before Enter: the engine has not seen this text
        cursor = window.editor.textCursor()
        position = cursor.position()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(f"# {mark}\n")
        cursor.setPosition(position)
        window.editor.setTextCursor(cursor)
    previous, painted = c.run, len(c.ttft_ms)
    enter_s = time.perf_counter()
    window.bar.field.setText(INSTRUCTION)
    window.bar.field.returnPressed.emit()  # what the Enter key triggers
    await until(lambda: c.run is not previous and c.run is not None and c.run.finished, 120, "the edit to end")
    await until(lambda: len(c.ttft_ms) > painted, 30, "the first paint")
    c.reject_all()
    await until(lambda: c.mode == "idle", 30, "idle")
    engine = c.run.stats.ttft_ms
    arrival = window.gauges.metrics.snapshot(time.perf_counter()).arrival_ttft_ms
    sent_s = c.run.sent_s  # the moment `generate` had gone out on the socket
    if engine is None or arrival is None or sent_s is None:
        return None
    return c.ttft_ms[-1], engine, arrival, (sent_s - enter_s) * 1000.0


async def _file(window, path: Path, anchor: str, runs: int, warmup: int, profiler) -> dict:
    c = window.controller
    session = c.engine.session
    assert window.open_path(str(path))
    await until(lambda: not window.files.loading, 120, "the text to load")
    await until(lambda: c.engine.session != session and c.engine.opened, 120, "the engine to take the text")
    await until(lambda: window.editor.highlighter.frontier is None, 300, "the colours")  # as a user would see it
    cursor = window.editor.textCursor()
    cursor.setPosition(window.document_text().index(anchor) + len(anchor) + 12)
    window.editor.setTextCursor(cursor)
    c.configure(max_tokens=4)  # a short edit: the first token is what is measured
    c.configure(seed=7, temperature=0.0)
    out: dict = {"file": path.name, "lines": window.document_text().count("\n")}
    for typed in (False, True):
        app, engine, gap, arrival, send = [], [], [], [], []
        for i in range(warmup + runs):
            if i == warmup and profiler is not None:
                profiler.enable()
            result = await _one(window, typed, i)
            if i >= warmup and result is not None:
                app.append(result[0])
                engine.append(result[1])
                gap.append(result[0] - result[1])
                arrival.append(result[2])
                send.append(result[3])
        if profiler is not None:
            profiler.disable()
        out["typed" if typed else "synced"] = {"runs": len(app), "app_ttft_ms": median(app),
                                               "engine_ttft_ms": median(engine), "gap_ms": median(gap),
                                               "gap_max_ms": round(max(gap), 1) if gap else None,
                                               "received_ms": median(arrival), "sent_ms": median(send)}
    return out


async def measure(window, runs: int, warmup: int, profiler) -> list[dict]:
    folder = Path(tempfile.mkdtemp(prefix="tessera-first-paint-"))
    small = folder / "shapes.py"
    small.write_text(DEMO_SOURCE, encoding="utf-8")
    large = folder / LARGE_MODULE  # a copy to edit; the original is never touched
    large.write_bytes((Path(sysconfig.get_paths()["stdlib"]) / LARGE_MODULE).read_bytes())
    return [await _file(window, small, SMALL_ANCHOR, runs, warmup, profiler),
            await _file(window, large, LARGE_ANCHOR, runs, warmup, profiler)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", default=None, help="write a cProfile of the measured runs here")
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.profile else None
    result = run_app(lambda w: measure(w, args.runs, args.warmup, profiler), args.model)
    if profiler is not None:
        profiler.dump_stats(args.profile)
    if args.json:
        print(json.dumps(result))
        return
    for row in result:
        for how in ("synced", "typed"):
            r = row[how]
            print(f"{row['file']:>14} ({row['lines']:5d} lines, {how:6s}): app TTFT {r['app_ttft_ms']} ms, "
                  f"engine TTFT {r['engine_ttft_ms']} ms, gap median {r['gap_ms']} ms (max {r['gap_max_ms']}); "
                  f"generate sent {r['sent_ms']} ms, first token received {r['received_ms']} ms; {r['runs']} runs")


if __name__ == "__main__":
    main()
