"""Race lanes on one engine: does the engine's single decode thread make any lane late?

    python benchmarks/bench_race.py [--runs N] [--json]

Real engine child process with the bundled model, real WebSocket, no Qt. Each run races the demo
edit (convert `_format_final_exc_line` to f-strings) in two lane orders, 8× H100 first and WSE-3
first (both emulating Llama 3.1 70B), and a three-lane race. Reports per lane, as the engine timed
it: TTFT, finish time and the pacing lag (how far real compute trailed the emulated schedule).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics

from app.core.demo.playlist import DEMOS_DIR, selection_range
from app.core.demo.race import LaneSpec, parse_lanes
from app.core.demo.race_run import RaceEdit, RaceRun
from app.core.link.client import EngineClient, EngineProcess
from engine.model.modelspec import MODELS_DIR

ORDERS = {"h100x8 first": "h100x8:llama-3.1-70b,wse-3:llama-3.1-70b",
          "wse-3 first": "wse-3:llama-3.1-70b,h100x8:llama-3.1-70b",
          "three lanes": "h100x8:llama-3.1-70b,b200x8:llama-3.1-70b,wse-3:llama-3.1-70b"}


async def main(runs: int) -> dict:
    text = (DEMOS_DIR / "code" / "stdlib_helpers.py").read_text(encoding="utf-8")
    edit = RaceEdit(text, selection_range(text, "_format_final_exc_line"), "convert to f-strings")
    process = EngineProcess(str(MODELS_DIR / "tessera-edit-mini"))
    client = EngineClient()
    await client.connect(await process.start(), process.token)
    results: dict = {}
    try:
        await RaceRun(client, edit, parse_lanes(ORDERS["h100x8 first"])).run()  # warm-up
        for name, lanes_text in ORDERS.items():
            lanes: tuple[LaneSpec, ...] = parse_lanes(lanes_text)
            per_lane: dict[str, dict[str, list[float]]] = {l.profile: {"ttft_ms": [], "finish_ms": [], "lag_ms": []}
                                                            for l in lanes}
            for _ in range(runs):
                for lane in await RaceRun(client, edit, lanes).run():
                    row = per_lane[lane.spec.profile]
                    row["ttft_ms"].append(lane.ttft_ms)
                    row["finish_ms"].append(lane.finish_ms)
                    row["lag_ms"].append(lane.lag_ms)
            results[name] = {p: {k: {"median": round(statistics.median(v), 1), "max": round(max(v), 1)}
                                 for k, v in row.items()} for p, row in per_lane.items()}
    finally:
        await client.close()
        await process.stop()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = asyncio.run(main(args.runs))
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for name, lanes in out.items():
            print(name)
            for profile, figures in lanes.items():
                print(f"  {profile:8s} " + "  ".join(f"{k} {v['median']:>8.1f} (max {v['max']:.1f})"
                                                     for k, v in figures.items()))
