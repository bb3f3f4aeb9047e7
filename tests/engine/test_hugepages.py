"""The weights' move to huge pages: which address ranges it picks, and that it happens without
changing a byte."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.model.hugepages import HUGE, HugePages, anonymous_ranges, new_ranges

ROOT = Path(__file__).resolve().parents[2]

PAGE = 4096


def _ranges(draw_cuts):
    cuts = sorted(set(draw_cuts))
    return [(cuts[i] * PAGE, cuts[i + 1] * PAGE) for i in range(0, len(cuts) - 1, 2)]


@given(st.lists(st.integers(0, 6000), max_size=16), st.lists(st.integers(0, 6000), max_size=16))
def test_new_ranges_are_whole_huge_pages_of_what_was_mapped_since(before_cuts, after_cuts):
    before, after = _ranges(before_cuts), _ranges(after_cuts)
    got = new_ranges(before, after)

    def inside(x, rs):
        return any(a <= x < b for a, b in rs)

    for a, b in got:
        assert a % HUGE == 0 and b % HUGE == 0 and b > a
    covered = {h for a, b in got for h in range(a, b, HUGE)}
    # every huge page that lies wholly in `after` and touches nothing of `before` is taken; no other
    for a, b in after:
        for h in range(-(-a // HUGE) * HUGE, b - HUGE + 1, HUGE):
            fresh = not any(x < h + HUGE and h < y for x, y in before)
            assert (h in covered) == fresh, (h, before, after)
    assert all(inside(h, after) and inside(h + HUGE - 1, after) for h in covered)


def _huge_kib(array: np.ndarray) -> int:
    """AnonHugePages (KiB) of the mappings holding `array` (madvise splits a mapping at huge-page bounds)."""
    start = array.ctypes.data
    end, hit, total = start + array.nbytes, False, 0
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                a, b = (int(x, 16) for x in head.split("-"))
                hit = a < end and start < b
            elif hit and head == "AnonHugePages:":
                total += int(line.split()[1])
    return total


def test_memory_mapped_in_the_block_lands_on_huge_pages_unchanged():
    # In a process of its own: in the test process, threads left by earlier tests map and unmap
    # memory at the same time, and a mapping they free inside the block can take the array's place.
    script = textwrap.dedent("""
        import numpy as np, sys
        from engine.model.hugepages import HugePages, anonymous_ranges, new_ranges
        sys.path.insert(0, sys.argv[1])
        from test_hugepages import _huge_kib
        before = anonymous_ranges()
        with HugePages() as pages:
            data = np.arange(16 << 20, dtype=np.int32)  # 64 MiB, written before the block ends
        assert pages.wait(timeout=60)
        assert new_ranges(before, anonymous_ranges())  # the array's mapping is new since `before`
        assert pages.collapsed_bytes >= 32 << 20 and pages.failed_bytes == 0, (pages.collapsed_bytes, pages.last_errno)
        assert _huge_kib(data) >= 32 << 10
        assert np.array_equal(data, np.arange(16 << 20, dtype=np.int32))
        print("ok", pages.collapsed_bytes)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-2000:]


def test_nothing_is_touched_when_switched_off(monkeypatch):
    monkeypatch.setenv("TESSERA_HUGE_PAGES", "0")
    with HugePages() as pages:
        data = np.ones(16 << 20, np.float32)
    assert pages.wait(timeout=0) and pages.collapsed_bytes == pages.failed_bytes == 0  # no thread started
    assert data.sum() == 16 << 20
