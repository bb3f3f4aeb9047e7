"""Run pytest on one test file in a subprocess, only when the user asks. No Qt."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_SUMMARY = re.compile(r"=+ (.*?) in [\d.]+s.*=+\s*$", re.MULTILINE)


@dataclass(frozen=True)
class TestRunResult:
    path: str  # the test file that was run
    returncode: int  # pytest's exit code (0 = all passed, 5 = no tests collected)
    summary: str  # pytest's last summary line, e.g. "3 passed, 1 failed"
    output: str  # the whole console output
    duration_s: float  # wall time of the run in seconds

    @property
    def passed(self) -> bool:
        return self.returncode == 0


def guess_test_file(source: str | os.PathLike[str] | None) -> Path | None:
    """tests/test_<name>.py or test_<name>.py near the source file, if one exists."""
    if not source:
        return None
    src = Path(source)
    if src.name.startswith("test_"):
        return src
    name = f"test_{src.stem}.py"
    for folder in (src.parent, src.parent / "tests", src.parent.parent / "tests"):
        if (folder / name).is_file():
            return folder / name
    return None


async def run_pytest(test_file: str | os.PathLike[str], timeout_s: float = 300.0) -> TestRunResult:
    path = Path(test_file)
    if not path.is_file():
        return TestRunResult(str(path), 4, f"no such test file: {path}", "", 0.0)
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pytest", "-q", "--no-header", "-p", "no:cacheprovider", str(path),
        cwd=str(path.parent), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return TestRunResult(str(path), -1, f"timed out after {timeout_s:.0f} s", "", timeout_s)
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    output = out.decode("utf-8", "replace")
    found = _SUMMARY.findall(output)
    summary = found[-1] if found else (output.strip().splitlines() or ["no output"])[-1]
    return TestRunResult(str(path), proc.returncode or 0, summary, output, time.perf_counter() - started)
