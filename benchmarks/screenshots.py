"""Screenshots of the main window in each state: idle, streaming, stopped, redirected, reviewing.

    python benchmarks/screenshots.py [--out DIR] [--model DIR] [--presentation]

Runs the real app on a real engine (offscreen unless a display is set) and saves one PNG per state,
plus the wafer view on an emulated WSE-3. Streaming, stop and redirect run on the 8xH100 profile
emulating a 405B model (~20 tok/s), so a model that finishes an edit in 0.1 s is still caught
mid-stream; the reviewing state runs at this machine's own speed.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from app_session import DEMO_SOURCE, run_app, until

# States 2-4 are paced as this hardware would serve this model, so a fast model is seen streaming.
PACED_PROFILE, PACED_MODEL = "h100x8", "llama-3.1-405b"


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
    window.bar.field.setText("Remove print statements")
    await until(lambda: c.engine.context_length > 0, what="context length")
    await c.engine.measure_context(window.bar.field.text())
    await shoot("1-idle")

    # Streaming, stopped, redirected: paced as a GPU node serving a large model would stream, so
    # a fast model is still caught mid-way (with "this machine" it is done within a frame or two).
    if window.toolbar.select_profile(PACED_PROFILE):
        c.configure(emulate=PACED_MODEL)
    c.configure(max_tokens=150)  # at ~20 tok/s: long enough to stop and redirect, short enough to end
    window.bar.field.returnPressed.emit()
    await until(lambda: c.run is not None and (c.run.tokens > 12 or c.run.finished), what="tokens")
    await shoot("2-streaming")

    window.bar.stop_button.click()
    await until(lambda: c.mode != "streaming", what="stop")
    await shoot("3-stopped")

    # After a stop Enter redirects the partial edit; after an edit that ended it starts a new one.
    run, before = c.run, c.run.tokens
    window.bar.field.setText("Add a docstring")
    window.bar.field.returnPressed.emit()

    def new_tokens() -> bool:
        if c.run is not run:
            return c.run.tokens > 12 or c.run.finished
        return c.run.tokens > before and (c.run.tokens > before + 12 or c.run.finished)

    await until(new_tokens, what="redirected tokens")
    await shoot("4-redirected")
    window.bar.stop_button.click()
    await until(lambda: c.mode != "streaming", what="stop after redirect")
    window.controller.reject_all()

    # Reviewing: a complete edit of one function, at this machine's own speed.
    window.toolbar.select_profile("local")
    c.configure(emulate=None)
    cursor = window.editor.textCursor()
    cursor.setPosition(DEMO_SOURCE.index("def describe"))
    cursor.setPosition(DEMO_SOURCE.index("def report"), QTextCursor.MoveMode.KeepAnchor)
    window.editor.setTextCursor(cursor)
    c.configure(max_tokens=80)
    previous = c.run
    window.bar.field.setText("Convert string formatting to f-strings")
    window.bar.field.returnPressed.emit()
    await until(lambda: c.run is not previous and c.run.finished and c.mode != "streaming", what="done")
    await shoot("5-reviewing")

    # The same kind of edit paced as the emulated wafer would serve it, with its tile activity.
    window.controller.reject_all()
    if window.toolbar.select_profile("wse-3"):
        cursor = window.editor.textCursor()
        cursor.setPosition(DEMO_SOURCE.index("return width * height"))
        window.editor.setTextCursor(cursor)
        c.configure(max_tokens=100_000)
        previous = c.run
        window.bar.field.setText("Remove print statements")
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
