"""Where the Open and Save dialogs start: as VS Code and Zed do, near the work. No Qt.

The folder of the file being edited comes first, then the last folder the user chose in a file
dialog (kept in the app settings), then the home folder; never the folder the app was started from,
which for a desktop launcher is somewhere the user never chose.
"""

from __future__ import annotations

from pathlib import Path


def start_directory(current_path: str | None, last_directory: str | None, home: str) -> str:
    """The first of (the current file's folder, the last folder used, ``home``) that exists."""
    candidates = []
    if current_path:
        candidates.append(Path(current_path).expanduser().parent)
    if last_directory:
        candidates.append(Path(last_directory).expanduser())
    for folder in candidates:
        if folder.is_absolute() and folder.is_dir():
            return str(folder)
    return home

