"""Run pytest on one test file in a subprocess, only when the user asks. No Qt."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
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


_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
_VENV_NAMES = (".venv", "venv", "env", ".env")


def project_root(path: Path) -> Path:
    """The nearest folder above `path` that looks like a project root (else the file's folder)."""
    for folder in (path.parent, *path.parent.parents):
        if any((folder / m).exists() for m in _PROJECT_MARKERS):
            return folder
    return path.parent


def project_python(test_file: str | os.PathLike[str]) -> str:
    """The interpreter the user's project runs with, not Tessera's own.

    In order: an activated virtual environment (VIRTUAL_ENV), a virtual environment folder in the
    project root (.venv, venv, env), then `python3` on PATH; Tessera's interpreter only as the last
    resort (a machine with no Python on PATH).
    """
    root = project_root(Path(test_file).resolve())
    candidates = []
    if os.environ.get("VIRTUAL_ENV"):
        candidates.append(Path(os.environ["VIRTUAL_ENV"]))
    candidates += [root / name for name in _VENV_NAMES]
    for venv in candidates:
        for exe in (venv / "bin" / "python", venv / "Scripts" / "python.exe"):
            if exe.is_file() and os.access(exe, os.X_OK):
                return str(exe)
    return shutil.which("python3") or shutil.which("python") or sys.executable


async def run_pytest(test_file: str | os.PathLike[str], timeout_s: float = 300.0,
                     python: str | None = None) -> TestRunResult:
    """Run pytest on `test_file` with the project's interpreter (`project_python`) from its root."""
    path = Path(test_file)
    if not path.is_file():
        return TestRunResult(str(path), 4, f"no such test file: {path}", "", 0.0)
    python = python or project_python(path)
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        python, "-m", "pytest", "-q", "--no-header", "-p", "no:cacheprovider", str(path.resolve()),
        cwd=str(project_root(path.resolve())), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
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
    if "No module named pytest" in output:
        summary = (f"pytest is not installed for {python}; install it with "
                   f"'{python} -m pip install pytest'")
    return TestRunResult(str(path), proc.returncode or 0, summary, output, time.perf_counter() - started)
