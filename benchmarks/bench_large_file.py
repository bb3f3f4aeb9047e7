"""Open a large file in the real app (window + engine child process): how long until the text is
in, until the engine has it, and the longest stall of the event loop meanwhile (what a user
feels as a frozen window).

    PYTHONPATH=$PWD python3 benchmarks/bench_large_file.py [--mib 9] [--model DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.app_session import run_app, until  # noqa: E402


def large_source(mib: float) -> str:
    """Standard-library Python repeated to `mib` MiB, ending at a line break."""
    source = Path(codecs.__file__).with_name("typing.py").read_text(encoding="utf-8")
    text = (source * (int(mib * 2**20) // len(source) + 1))[:int(mib * 2**20)]
    return text[:text.rindex("\n") + 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, default=9.0)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    path = folder / "large.py"
    path.write_text(large_source(args.mib), encoding="utf-8")

    async def scenario(window) -> dict:
        stalls: list[float] = []
        stop = asyncio.Event()

        async def heartbeat() -> None:  # an event-loop tick every 5 ms; a late one is a stall
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                stalls.append((now - last) * 1000.0)
                last = now

        beat = asyncio.ensure_future(heartbeat())
        session = window.controller.engine.session
        started = time.perf_counter()
        assert window.open_path(str(path))
        await until(lambda: not window.files.loading, 300, "the text to load")
        loaded_s = time.perf_counter() - started
        await until(lambda: window.controller.engine.session != session and (
            window.controller.engine.opened or window.controller.engine.refused_chars), 300, "the engine")
        engine_s = time.perf_counter() - started
        await until(lambda: window.editor.highlighter.frontier is None, 600, "the colours")
        coloured_s = time.perf_counter() - started
        stop.set()
        await beat
        return {"mib": args.mib, "loaded_s": loaded_s, "engine_s": engine_s, "coloured_s": coloured_s,
                "max_stall_ms": max(stalls), "connected": window.controller.engine.client.connected,
                "status": window.status_label.text()}

    result = run_app(scenario, model=args.model)
    for key, value in result.items():
        print(f"{key:>13}: {value:.2f}" if isinstance(value, float) else f"{key:>13}: {value}")


if __name__ == "__main__":
    main()
