"""Screenshots of the main window in each state: idle, streaming, stopped, redirected, reviewing.

    python benchmarks/screenshots.py [--out DIR] [--model DIR] [--presentation]

Runs the real app on a real engine (offscreen unless a display is set) and saves one PNG per state.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from app_session import DEMO_SOURCE, run_app, until


async def tour(window, out: Path, presentation: bool) -> list[Path]:
    from PySide6.QtGui import QTextCursor

    c = window.controller
    shots: list[Path] = []

    async def shoot(name: str) -> None:
        await asyncio.sleep(0.1)  # let the diff pane's frame timer paint what arrived
        path = out / f"{name}.png"
        window.grab().save(str(path))
        shots.append(path)

    demo = Path(tempfile.mkdtemp()) / "shapes.py"
    demo.write_text(DEMO_SOURCE, encoding="utf-8")
    window.open_path(str(demo))
    if presentation:
        size = window.size()
        window.set_presentation(True)
        window.showNormal()  # offscreen "full screen" is a small virtual screen: keep the asked size
        window.resize(size)
    cursor = window.editor.textCursor()
    cursor.setPosition(DEMO_SOURCE.index("return math.pi"))
    window.editor.setTextCursor(cursor)
    window.focus_instruction()
    window.bar.field.setText("Convert string formatting to f-strings")
    await until(lambda: c.context_length > 0, what="context length")
    await c.measure_context(window.bar.field.text())
    await shoot("1-idle")

    # Streaming: a long output, caught mid-way.
    c.max_tokens = 100_000
    window.bar.field.returnPressed.emit()
    # A trained model may finish a short edit first: then the shots show what it did instead.
    await until(lambda: c.run is not None and (c.run.tokens > 150 or c.run.finished), what="tokens")
    await shoot("2-streaming")

    window.bar.stop_button.click()
    await until(lambda: c.mode != "streaming", what="stop")
    await shoot("3-stopped")

    window.bar.field.setText("Also remove the debug prints")
    window.bar.field.returnPressed.emit()
    before = c.run.tokens
    await until(lambda: c.run.tokens > before + 120 or (c.run.finished and c.run.tokens > before),
                what="redirected tokens")
    await shoot("4-redirected")
    window.bar.stop_button.click()
    await until(lambda: c.mode != "streaming", what="stop after redirect")

    # Reviewing: a complete edit of one function, one hunk accepted.
    cursor = window.editor.textCursor()
    start = DEMO_SOURCE.index("def describe")
    cursor.setPosition(start)
    cursor.setPosition(DEMO_SOURCE.index("def report"), QTextCursor.MoveMode.KeepAnchor)
    window.editor.setTextCursor(cursor)
    c.max_tokens = 80
    previous = c.run
    window.bar.field.setText("Add a docstring")
    window.bar.field.returnPressed.emit()
    await until(lambda: c.run is not previous and c.run.finished and c.mode != "streaming", what="done")
    await shoot("5-reviewing")

    # The same kind of edit paced as the emulated wafer would serve it, with its tile activity.
    window.controller.reject_all()
    if window.toolbar.select_profile("wse-3"):
        c.max_tokens = 100_000
        previous = c.run
        window.bar.field.setText("Add type hints")
        window.bar.field.returnPressed.emit()
        await until(lambda: c.run is not previous and (c.run.tokens > 200 or c.run.finished), what="paced tokens")
        await shoot("6-wafer")
        window.bar.stop_button.click()
        await until(lambda: c.mode != "streaming", what="stop")
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots", help="folder for the PNGs")
    parser.add_argument("--model", help="model folder (default: the bundled model)")
    parser.add_argument("--presentation", action="store_true", help="presentation mode (large type)")
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shots = run_app(lambda w: tour(w, out, args.presentation), args.model, (args.width, args.height))
    for path in shots:
        print(path)


if __name__ == "__main__":
    main()
