"""What the model picker offers: the bundled model, local model folders, configured endpoints. No Qt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.backends.endpoints import Endpoint, EndpointError, load_endpoints

MODELS_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"
BUNDLED = "tessera-edit-mini"  # the model the app starts on


@dataclass(frozen=True)
class ModelChoice:
    kind: str  # "bundled", "folder" or "endpoint"
    label: str  # menu text
    folder: str | None = None  # model folder (bundled and folder choices)
    endpoint: Endpoint | None = None  # the endpoint (endpoint choices)


def _is_model_folder(path: Path) -> bool:
    return any((path / name).is_file() for name in ("config.json", "genai_config.json"))


def model_choices(recent_folders: list[str] = (), models_dir: Path = MODELS_DIR) -> tuple[list[ModelChoice], str]:
    """The picker's entries, and a problem to show ("" when none: a broken config file is one)."""
    out: list[ModelChoice] = []
    if (models_dir / BUNDLED).is_dir():
        out.append(ModelChoice("bundled", f"{BUNDLED} (bundled)", str(models_dir / BUNDLED)))
    seen = {c.folder for c in out}
    folders = [p for p in sorted(models_dir.iterdir()) if p.is_dir()] if models_dir.is_dir() else []
    for path in [*folders, *map(Path, recent_folders)]:
        if str(path) not in seen and _is_model_folder(path):
            seen.add(str(path))
            out.append(ModelChoice("folder", f"{path.name} (folder)", str(path)))
    problem = ""
    try:
        endpoints = load_endpoints()
    except EndpointError as exc:
        endpoints, problem = [], str(exc)
    for ep in endpoints:
        out.append(ModelChoice("endpoint", f"{ep.label} ({ep.transport})", endpoint=ep))
    return out, problem
