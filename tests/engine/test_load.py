"""Many clients at once on a real engine process: every request ends with `done` or `error`.

CI runs 8 clients × 6 requests; ``TESSERA_BIG=1`` runs 8 × 50 (the README's figures come from
``benchmarks/bench_reliability.py``, which also times them). Also: a large document opened in
parts while another client pings.
"""

import asyncio
import os

import pytest

from engine.bench.reliability import jain_index, load_run, ping_while_opening, rss_mb
from tests.conftest import EngineProcess

BIG = os.environ.get("TESSERA_BIG") == "1"
CLIENTS, REQUESTS = 8, (50 if BIG else 6)


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    eng = EngineProcess(tiny_model_dir)
    yield eng
    eng.close()


def test_mixed_requests_from_many_clients_all_end(engine):
    before = rss_mb(engine.proc.pid)
    results = asyncio.run(asyncio.wait_for(load_run(engine.url, engine.token, CLIENTS, REQUESTS), 900))
    after = rss_mb(engine.proc.pid)
    ended: dict[str, int] = {}
    for r in results:
        for k, v in r.ended.items():
            ended[k] = ended.get(k, 0) + v
    share = [r.tokens / r.seconds for r in results if r.seconds > 0]
    print(f"\n{CLIENTS} clients × {REQUESTS} requests: ended {ended}; fairness (Jain, tokens/s per client) "
          f"{jain_index(share):.3f}; engine RSS {before:.0f} → {after:.0f} MB")
    assert not any(r.dropped for r in results)
    assert sum(r.unanswered for r in results) == 0
    assert sum(r.requests for r in results) == CLIENTS * REQUESTS == sum(ended.values())
    assert not any(k.startswith("error") for k in ended), ended  # all of them valid requests
    assert engine.proc.poll() is None


def test_a_large_document_opens_in_parts_while_another_client_is_answered(engine):
    size = (7 if BIG else 3) * 2**20
    got = asyncio.run(asyncio.wait_for(ping_while_opening(engine.url, engine.token, size), 300))
    print(f"\n{got}")
    assert got["ready"] == "ready" and got["pings"] >= 1
