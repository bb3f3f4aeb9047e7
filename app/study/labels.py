"""Labels added while watching a session again (CUPS-style): a JSON list next to the log."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def labels_path(log: str | Path) -> Path:
    log = Path(log)
    return log.with_name(log.stem + ".labels.json")


def load_labels(path: str | Path) -> list[dict]:
    """[{t, label, note}] sorted by time; [] when there is no label file."""
    path = Path(path)
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(x, dict) and "t" in x and "label" in x for x in data):
        raise ValueError(f"{path} is not a label file")
    return sorted(({"t": float(x["t"]), "label": str(x["label"]), "note": str(x.get("note", ""))} for x in data),
                  key=lambda x: x["t"])


def save_labels(path: str | Path, labels: list[dict]) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".labels-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(sorted(labels, key=lambda x: x["t"]), f, indent=1, ensure_ascii=False)
    os.replace(tmp, path)
