"""A participant's working copies of the task files, and line selections as character offsets."""

from __future__ import annotations

import shutil
from pathlib import Path


def line_selection(text: str, lines: tuple[int, int] | None) -> tuple[int, int]:
    """Character offsets of lines ``first..last`` (1-based, inclusive); (0, 0) for no selection."""
    if lines is None:
        return 0, 0
    first, last = lines
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    start = starts[min(first, len(starts)) - 1]
    end = starts[last] if last < len(starts) else len(text)
    return start, end


def prepare_workspace(task, root: Path) -> Path:
    """Copy the task file and its support files into ``root/<task id>/``; the task file's copy."""
    folder = root / task.id
    folder.mkdir(parents=True, exist_ok=True)
    for src in (task.file, *task.support):
        shutil.copy2(src, folder / src.name)
    return folder / task.file.name
