"""Live diff under load: 2,000 tok/s into a LiveDiffView over a 2,000-line file, real Qt event loop.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui.py [--runs 3] [--rate 2000] [--lines 2000]

Reports, as the median over runs (and the worst run):
- longest stall: the longest time the event loop could not run a 1 ms heartbeat timer (goal < 16 ms);
- longest CPU-busy stretch: the CPU time the UI thread spent between two heartbeats. On a shared,
  loaded machine the wall-clock stall also counts time the OS gave to other processes; this one
  counts only our own work (the idle-loop line gives the machine's noise floor);
- token-to-paint latency: from a token's feed() to the end of the first paint that shows it
  (median and p95 over all tokens).
Tokens are ~4 characters, fed one feed() call per token as the engine client would, paced by wall
clock. Two outputs: a minimal edit (a changed line every ~40) and a full rewrite (nothing matches).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.qt.widgets.diffview import LiveDiffView  # noqa: E402


def synthetic_file(lines: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    k = 0
    while len(out) < lines:
        out += [f"def handler_{k}(request, limit={rng.randint(1, 99)}):\n",
                f'    """Handle request kind {k}."""\n',
                f"    items = [x for x in request.items if x.size < limit * {rng.randint(2, 9)}]\n",
                "    if not items:\n",
                "        return None\n",
                f"    total = sum(item.size for item in items) + {k}\n",
                "    return total\n",
                "\n",
                "\n"]
        k += 1
    return "".join(out[:lines])


def minimal_edit(original: str, every: int = 40) -> str:
    lines = original.splitlines(keepends=True)
    for i in range(5, len(lines), every):
        lines[i] = lines[i].replace("total", "subtotal").replace("items", "chosen")
    return "".join(lines)


def tokens_of(text: str, size: int = 4) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


class MeasuredView(LiveDiffView):
    """Records which tokens each frame shows and when that frame's paint ends."""

    def __init__(self):
        super().__init__()
        self.fed_at: list[float] = []  # feed time of every token (s)
        self.painted_upto = 0  # tokens shown by the last painted frame (count)
        self.frame_upto = 0  # tokens included in the frame awaiting paint (count)
        self.latencies_ms: list[float] = []

    def feed(self, chunk: str, draft_tokens: int = 0) -> None:
        self.fed_at.append(time.perf_counter())
        super().feed(chunk, draft_tokens)

    def _on_frame(self, now: bool = False) -> None:
        self.frame_upto = len(self.fed_at)
        super()._on_frame(now)

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        now = time.perf_counter()
        for t in self.fed_at[self.painted_upto:self.frame_upto]:
            self.latencies_ms.append((now - t) * 1000.0)
        self.painted_upto = max(self.painted_upto, self.frame_upto)


def idle_loop_stall_ms(app: QApplication, seconds: float = 3.0) -> tuple[float, float]:
    """Longest and p99 heartbeat gap of an event loop doing nothing: the machine's own noise."""
    gaps_ms: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def heartbeat() -> None:
        now = clock.nsecsElapsed()
        gaps_ms.append((now - last[0]) / 1e6)
        last[0] = now

    beat = QTimer()
    beat.setTimerType(Qt.TimerType.PreciseTimer)
    beat.setInterval(1)
    beat.timeout.connect(heartbeat)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    beat.start()
    loop.exec()
    beat.stop()
    gaps_ms.sort()
    return gaps_ms[-1], gaps_ms[int(len(gaps_ms) * 0.99)]


def run_once(app: QApplication, original: str, output: str, rate_tok_s: float) -> dict:
    view = MeasuredView()
    view.resize(1200, 900)
    view.show()
    app.processEvents()
    tokens = tokens_of(output)
    view.begin(original)
    gaps_ms: list[float] = []
    busy_ms: list[float] = []  # CPU time this thread spent between heartbeats
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed(), time.thread_time()]
    fed = [0]
    loop = QEventLoop()

    def heartbeat() -> None:
        now, cpu = clock.nsecsElapsed(), time.thread_time()
        gaps_ms.append((now - last[0]) / 1e6)
        busy_ms.append((cpu - last[1]) * 1000.0)
        last[0], last[1] = now, cpu

    def pump() -> None:
        due = min(len(tokens), int(clock.nsecsElapsed() / 1e9 * rate_tok_s) + 1)
        while fed[0] < due:
            view.feed(tokens[fed[0]])
            fed[0] += 1
        if fed[0] == len(tokens):
            view.finish()
            QTimer.singleShot(100, loop.quit)
            feeder.stop()

    beat = QTimer()
    beat.setTimerType(Qt.TimerType.PreciseTimer)
    beat.setInterval(1)
    beat.timeout.connect(heartbeat)
    feeder = QTimer()
    feeder.setTimerType(Qt.TimerType.PreciseTimer)
    feeder.setInterval(2)
    feeder.timeout.connect(pump)
    beat.start()
    feeder.start()
    loop.exec()
    beat.stop()
    elapsed_s = clock.nsecsElapsed() / 1e9
    latencies = sorted(view.latencies_ms)
    ok = view.diff.apply(range(len(view.diff.hunks))) == output
    view.close()
    view.deleteLater()
    return {
        "stall_ms": max(gaps_ms),
        "busy_ms": max(busy_ms),
        "p99_busy_ms": sorted(busy_ms)[int(len(busy_ms) * 0.99)],
        "p99_gap_ms": sorted(gaps_ms)[int(len(gaps_ms) * 0.99)],
        "latency_median_ms": statistics.median(latencies),
        "latency_p95_ms": latencies[int(len(latencies) * 0.95)],
        "achieved_tok_s": len(tokens) / elapsed_s,
        "tokens": len(tokens),
        "frames": view.paint_count,
        "exact": ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=2000.0, help="tokens per second")
    parser.add_argument("--lines", type=int, default=2000, help="lines in the original file")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    original = synthetic_file(args.lines)
    cases = {"minimal edit": minimal_edit(original),
             "full rewrite": "".join(line.upper() for line in original.splitlines(keepends=True))}
    print(f"{args.lines}-line file, {args.rate:.0f} tok/s target, {args.runs} runs, 4-char tokens")
    idle = [idle_loop_stall_ms(app) for _ in range(args.runs)]
    print(f"{'idle loop':>13}: longest stall median {statistics.median(i[0] for i in idle):.1f} ms, "
          f"p99 loop gap {statistics.median(i[1] for i in idle):.1f} ms (machine noise floor)")
    for name, output in cases.items():
        results = [run_once(app, original, output, args.rate) for _ in range(args.runs)]
        med = {k: statistics.median(r[k] for r in results) for k in results[0] if k != "exact"}
        worst = max(r["stall_ms"] for r in results)
        print(f"{name:>13}: longest stall median {med['stall_ms']:.1f} ms (worst run {worst:.1f} ms), "
              f"p99 loop gap {med['p99_gap_ms']:.1f} ms; longest CPU-busy stretch median "
              f"{med['busy_ms']:.1f} ms, p99 {med['p99_busy_ms']:.1f} ms; token-to-paint median "
              f"{med['latency_median_ms']:.1f} ms / p95 {med['latency_p95_ms']:.1f} ms, "
              f"{med['achieved_tok_s']:.0f} tok/s achieved, {med['tokens']:.0f} tokens, "
              f"{med['frames']:.0f} frames, exact={all(r['exact'] for r in results)}")


if __name__ == "__main__":
    main()
