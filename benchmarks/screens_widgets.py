"""Screenshots of the editor, live diff and gauges in each state, for judging by eye.

    QT_QPA_PLATFORM=offscreen python benchmarks/screens_widgets.py [out_dir]

Writes idle.png, streaming.png, stopped.png, redirected.png and reviewing.png (default /tmp).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget  # noqa: E402

from app.core.metrics import StreamMetrics  # noqa: E402
from app.qt.widgets.diffview import LiveDiffView  # noqa: E402
from app.qt.widgets.editor import CodeEditor  # noqa: E402
from app.qt.widgets.gauges import MetricsPanel  # noqa: E402
from wire import DoneStats  # noqa: E402

ORIGINAL = '''def parse_config(path):
    """Read a key=value file."""
    result = {}
    f = open(path)
    for line in f.readlines():
        print("line:", line)
        if "=" in line:
            key, value = line.split("=", 1)
            result[key.strip()] = value.strip()
    f.close()
    return result


def total(prices, tax):
    s = 0
    for p in prices:
        s = s + p * (1 + tax)
    return s
'''

EDITED = '''def parse_config(path: str) -> dict[str, str]:
    """Read a key=value file into a dict."""
    result: dict[str, str] = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                key, value = line.split("=", 1)
                result[key.strip()] = value.strip()
    return result


def total(prices, tax):
    s = 0
    for p in prices:
        s = s + p * (1 + tax)
    return s
'''


class Clock:
    now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def build():
    window = QWidget()
    window.setStyleSheet("background: #0f1115;")
    layout = QHBoxLayout(window)
    editor, view = CodeEditor(), LiveDiffView()
    clock = Clock()
    panel = MetricsPanel(clock=clock)
    layout.addWidget(editor, 5)
    layout.addWidget(view, 6)
    layout.addWidget(panel, 3)
    window.resize(1920, 1080)
    editor.setPlainText(ORIGINAL + "\n\nprint(total([1, 2], 0.2))\n")
    window.show()
    return window, editor, view, panel, clock


def stream(view, metrics, clock, text, start_s, rate_tok_s, draft_every=3):
    chunks = [text[i:i + 4] for i in range(0, len(text), 4)]
    for k, chunk in enumerate(chunks):
        clock.now_s = start_s + k / rate_tok_s
        draft = 1 if k % draft_every else 0
        metrics.on_tokens(1, clock.now_s, draft=draft)
        view.feed(chunk, draft_tokens=draft)
    return clock.now_s


def main(out_dir: str = "/tmp") -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    def shoot(name: str) -> None:
        for _ in range(5):
            app.processEvents()
        from PySide6.QtCore import QThread
        QThread.msleep(40)
        app.processEvents()
        panel.tick(clock.now_s)
        window.grab()  # a first paint colours the lines (each frame has a highlighting budget)
        window.grab().save(str(out / name))
        print("wrote", out / name)

    window, editor, view, panel, clock = build()
    metrics = StreamMetrics()
    shoot("idle.png")

    editor.show_target(0, len(ORIGINAL))
    metrics.on_request_start(0.0)
    panel.bind(metrics)
    view.begin(ORIGINAL)
    metrics.on_first_paint(0.094)
    half = EDITED[: len(EDITED) // 2 + 25]
    stream(view, metrics, clock, half, 0.081, 1350.0)
    shoot("streaming.png")

    metrics.on_done(DoneStats(ttft_ms=61.0, decode_tok_s=1338.0))
    view.finish(stopped=True)
    shoot("stopped.png")

    window2, editor, view, panel, clock = build()
    window.close()
    window = window2
    editor.show_target(0, len(ORIGINAL))
    metrics = StreamMetrics()
    metrics.on_request_start(0.0)
    panel.bind(metrics)
    view.begin(ORIGINAL)
    metrics.on_first_paint(0.090)
    cut = EDITED.index("    with open")
    t = stream(view, metrics, clock, EDITED[:cut], 0.08, 1400.0)
    view.mark_redirect("keep the debug print")
    metrics.on_lag(18.0)
    rest = EDITED[cut:].replace("        for line in f:\n", "        for line in f:\n            print(\"line:\", line)\n")
    stream(view, metrics, clock, rest, t + 0.05, 900.0)
    shoot("redirected.png")
    metrics.on_done(DoneStats(ttft_ms=58.0, decode_tok_s=1210.0, lag_ms=18.0))
    view.finish()
    view.accept(0)
    view.scroll_to_hunk(0)
    shoot("reviewing.png")
    panel.bind(None)


if __name__ == "__main__":
    main(*sys.argv[1:])
