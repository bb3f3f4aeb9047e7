"""What the engine says of itself in its `welcome`: model, skills, hardware profiles, backend.

Read leniently: a field an older or newer engine leaves out or sends in another shape falls back
to a neutral value, so the app still connects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wire import PROTOCOL_VERSION


@dataclass(frozen=True)
class EngineInfo:
    """What the engine said in its `welcome`."""

    model_name: str  # display name of the loaded model
    context_length: int  # tokens the model can attend to (prompt + output)
    skills: tuple[str, ...]  # names of the edits the model was trained for (its tessera.json); () = free-form
    profiles: tuple[str, ...]  # hardware profile names for `generate`'s `profile`
    protocol: int  # protocol version the engine speaks
    backend: str = "onnx"  # what computes the tokens: "onnx" (local model) or "remote" (an endpoint)
    transport: str = ""  # for a remote backend: "http" or "websocket"
    endpoint: str = ""  # for a remote backend: the endpoint's label (model @ host)
    emulate_models: tuple[tuple[str, str], ...] = ()  # (name, label) of model shapes a profile can pace
    skill_examples: tuple[str, ...] = ()  # one example instruction per skill, in `skills` order

    @property
    def backend_label(self) -> str:
        """For the status line: "local ONNX" or "remote <endpoint> over <transport>"."""
        if self.backend == "remote":
            return f"remote {self.endpoint or self.model_name} over {self.transport or 'http'}"
        return "local ONNX" if self.backend == "onnx" else self.backend


def _profile_name(entry: Any) -> str:
    return str(entry.get("name", entry.get("id", "?"))) if isinstance(entry, dict) else str(entry)


def _skills(model: dict[str, Any]) -> list[Any]:
    skills = model.get("skills")
    return list(skills) if isinstance(skills, (list, tuple)) else []


def _skill_field(skill: Any, key: str) -> str:
    """A skill's name or example (the engine sends {"name", "example"}; a bare string is a name)."""
    if isinstance(skill, dict):
        return str(skill.get(key) or "")
    return str(skill) if key == "name" else ""


def parse_welcome(msg: dict[str, Any]) -> EngineInfo:
    model = msg.get("model") if isinstance(msg.get("model"), dict) else {}
    try:
        context_length = int(model.get("context_length") or 0)
    except (TypeError, ValueError):
        context_length = 0
    return EngineInfo(
        model_name=str(model.get("name", "unknown model")),
        context_length=context_length,
        skills=tuple(_skill_field(s, "name") for s in _skills(model)),
        skill_examples=tuple(_skill_field(s, "example") for s in _skills(model)),
        profiles=tuple(_profile_name(p) for p in msg.get("profiles", ()) or ()),
        protocol=int(msg.get("protocol", PROTOCOL_VERSION)),
        backend=str(model.get("backend") or "onnx"),
        transport=str(model.get("transport") or ""),
        endpoint=str(model.get("endpoint") or ""),
        emulate_models=tuple(
            (str(m["name"]), str(m.get("label") or m["name"]))
            for m in msg.get("emulate_models", ()) or () if isinstance(m, dict) and m.get("name")
        ),
    )
