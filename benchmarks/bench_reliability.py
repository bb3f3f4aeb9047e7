"""Engine reliability figures: many clients at once, and pings while a large document opens.

    python benchmarks/bench_reliability.py [--clients 8] [--requests 50] [--doc-mb 7] [--repeats 3]
                                           [--model DIR] [--json]

A real engine process (`tessera-engine serve`) and real WebSocket clients. Reports how the
8 × 50 mixed requests ended (done reasons / error codes), the fairness between clients (Jain's
index of each client's tokens per second, and the slowest ÷ fastest client's wall time), the
engine's memory before and after, and the round trips of one client's pings while another
opens a `--doc-mb` document in parts (median and worst over all pings of all repeats).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.bench.reliability import jain_index, load_run, ping_while_opening, rss_mb  # noqa: E402
from engine.model.modelspec import MODELS_DIR  # noqa: E402


def start_engine(model: Path) -> tuple[subprocess.Popen, str, str]:
    token = secrets.token_urlsafe(16)
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--model", str(model)],
                            stdout=subprocess.PIPE, env={**os.environ, "TESSERA_TOKEN": token}, cwd=ROOT, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("ws://"):
        proc.kill()
        raise SystemExit(f"the engine did not start: {url!r}")
    return proc, url, token


async def run(args, url: str, token: str, pid: int) -> dict:
    before = rss_mb(pid)
    results = await load_run(url, token, args.clients, args.requests)
    after = rss_mb(pid)
    ended: dict[str, int] = {}
    for r in results:
        for k, v in r.ended.items():
            ended[k] = ended.get(k, 0) + v
    seconds = [r.seconds for r in results]
    opens = [await ping_while_opening(url, token, int(args.doc_mb * 2**20)) for _ in range(args.repeats)]
    return {
        "load": {"clients": args.clients, "requests_each": args.requests, "requests": sum(r.requests for r in results),
                 "ended": ended, "unanswered": sum(r.unanswered for r in results),
                 "dropped": sum(r.dropped for r in results), "tokens": sum(r.tokens for r in results),
                 "fairness_jain": round(jain_index([r.tokens / r.seconds for r in results]), 3),
                 "slowest_over_fastest": round(max(seconds) / min(seconds), 2),
                 "rss_mb_before": round(before), "rss_mb_after": round(after)},
        "large_open": {"doc_mb": args.doc_mb, "runs": opens,
                       "ping_median_ms": sorted(o["ping_median_ms"] for o in opens)[len(opens) // 2],
                       "ping_max_ms": max(o["ping_max_ms"] for o in opens),
                       "pings": sum(o["pings"] for o in opens),
                       "pings_over_50ms": sum(o["pings_over_50ms"] for o in opens),
                       "rss_mb_after": round(rss_mb(pid))},
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=50)
    p.add_argument("--doc-mb", type=float, default=7.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--model", default=str(MODELS_DIR / "tiny-random"))
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    proc, url, token = start_engine(Path(args.model))
    try:
        out = asyncio.run(run(args, url, token, proc.pid))
    finally:
        proc.terminate()
        proc.wait(10)
    if args.json:
        print(json.dumps(out))
    else:
        load, big = out["load"], out["large_open"]
        print(f"{load['clients']} clients × {load['requests_each']} mixed requests: {load['requests']} sent, ended "
              f"{load['ended']}, unanswered {load['unanswered']}, dropped connections {load['dropped']}")
        print(f"fairness: Jain {load['fairness_jain']} (tokens/s per client), slowest/fastest client "
              f"{load['slowest_over_fastest']}×; engine RSS {load['rss_mb_before']} → {load['rss_mb_after']} MB")
        print(f"{big['doc_mb']} MB document opened in parts ×{len(big['runs'])}: open "
              f"{[r['open_s'] for r in big['runs']]} s; another client's ping median {big['ping_median_ms']} ms, "
              f"worst {big['ping_max_ms']} ms ({big['pings_over_50ms']} of {big['pings']} pings over 50 ms); "
              f"engine RSS after {big['rss_mb_after']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
