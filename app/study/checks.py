"""A task's success check, run once when the task ends, with the participant's Python.

``check = "pytest -q test_x.py"`` runs ``sys.executable -m pytest -q test_x.py`` in the task's
working folder; ``python …`` runs ``sys.executable …``; anything else runs as written. The result
is what the log records: passed (exit status 0), the status, and the output's last line.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path

CHECK_TIMEOUT_S = 120.0  # a check that runs longer counts as failed


def check_argv(check: str) -> list[str]:
    argv = shlex.split(check)
    if not argv:
        raise ValueError("the success check is empty")
    if argv[0] == "pytest":
        return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *argv[1:]]
    if argv[0] in ("python", "python3"):
        return [sys.executable, *argv[1:]]
    return argv


async def run_check(check: str, folder: Path) -> dict:
    argv = check_argv(check)
    try:
        proc = await asyncio.create_subprocess_exec(*argv, cwd=folder, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.STDOUT)
    except OSError as exc:
        return {"passed": None, "returncode": None, "summary": f"could not run {argv[0]}: {exc}"}
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), CHECK_TIMEOUT_S)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return {"passed": False, "returncode": None, "summary": f"timed out after {CHECK_TIMEOUT_S:g} s"}
    lines = [line for line in out.decode("utf-8", "replace").splitlines() if line.strip()]
    return {"passed": proc.returncode == 0, "returncode": proc.returncode, "summary": lines[-1] if lines else ""}
