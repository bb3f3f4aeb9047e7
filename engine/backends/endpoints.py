"""Remote OpenAI-compatible endpoints the user configured: base URL, model, API key, transport.

They live in ``endpoints.json`` in the user's config folder (platformdirs), written with mode
0600 because it may hold API keys. A key is never logged, printed or shown: ``Endpoint``'s repr
and ``public()`` leave it out, and a key can also come from ``OPENAI_API_KEY`` instead of the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from platformdirs import user_config_dir

KEY_ENV = "OPENAI_API_KEY"
TRANSPORTS = ("http", "websocket")
CONFIG_ENV = "TESSERA_CONFIG_DIR"  # overrides the config folder (tests, portable installs)


class EndpointError(ValueError):
    """A malformed endpoint or config file, with a message for the user."""


@dataclass
class Endpoint:
    base_url: str  # OpenAI-compatible API root, e.g. http://127.0.0.1:8080/v1
    model: str  # the model name the server expects in `model`
    api_key: str = field(default="", repr=False)  # Bearer key; "" = none (most local servers)
    transport: str = "http"  # http (Chat Completions over SSE) or websocket (Responses WebSocket mode)
    name: str = ""  # label in the app's model picker ("" = model @ host)
    context_length: int = 32768  # tokens the served model holds (prompt + output), for the context meter
    prediction: bool = True  # send predicted outputs (servers that do not know the field ignore it)
    timeout_s: float = 60.0  # longest wait for the server to connect or send the next event

    def __post_init__(self) -> None:
        self.base_url = normalise_base_url(self.base_url)
        if not self.model.strip():
            raise EndpointError("an endpoint needs a model name")
        if self.transport not in TRANSPORTS:
            raise EndpointError(f"transport must be one of {', '.join(TRANSPORTS)}, not {self.transport!r}")
        if self.context_length < 16:
            raise EndpointError("context_length must be at least 16 tokens")
        if self.timeout_s <= 0:
            raise EndpointError("timeout_s must be positive")

    @property
    def label(self) -> str:
        return self.name or f"{self.model} @ {urlsplit(self.base_url).netloc}"

    @property
    def key(self) -> str:
        """The key to send: the endpoint's own, else ``OPENAI_API_KEY``."""
        return self.api_key or os.environ.get(KEY_ENV, "")

    def headers(self) -> dict[str, str]:
        key = self.key
        return {"Authorization": f"Bearer {key}"} if key else {}

    @property
    def websocket_url(self) -> str:
        """The Responses WebSocket mode's URL: the base URL's scheme swapped, plus /responses."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{parts.path}/responses"

    def public(self) -> dict:
        """Everything but the key, for logs, the CLI and the app (``has_key`` says if one is set)."""
        return {"name": self.label, "base_url": self.base_url, "model": self.model, "transport": self.transport,
                "context_length": self.context_length, "has_key": bool(self.key)}

    def to_json(self) -> dict:
        out = {"name": self.name, "base_url": self.base_url, "model": self.model, "transport": self.transport,
               "context_length": self.context_length, "prediction": self.prediction, "timeout_s": self.timeout_s}
        if self.api_key:
            out["api_key"] = self.api_key
        return out


def normalise_base_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise EndpointError(f"the base URL must be http(s)://host[:port]/path, not {url!r}")
    return url


def config_dir() -> Path:
    """The user's Tessera config folder (TESSERA_CONFIG_DIR, else platformdirs' user config folder)."""
    return Path(os.environ.get(CONFIG_ENV) or user_config_dir("tessera"))


def config_path() -> Path:
    return config_dir() / "endpoints.json"


def load_endpoints(path: Path | None = None) -> list[Endpoint]:
    """The configured endpoints (none when there is no file); a broken file is a clear error."""
    path = path or config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EndpointError(f"{path}: cannot read the endpoints ({exc})") from None
    items = data.get("endpoints") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise EndpointError(f"{path}: expected {{\"endpoints\": [...]}}")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(Endpoint(**{k: v for k, v in item.items() if k in Endpoint.__dataclass_fields__}))
        except (TypeError, AttributeError, EndpointError) as exc:
            raise EndpointError(f"{path}: endpoint {i + 1}: {exc}") from None
    return out


def save_endpoints(endpoints: list[Endpoint], path: Path | None = None) -> Path:
    """Write atomically with mode 0600 (the file may hold keys)."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"endpoints": [e.to_json() for e in endpoints]}, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return path


def add_endpoint(endpoint: Endpoint, path: Path | None = None) -> Path:
    """Add or replace (same base URL and model) one endpoint in the config file."""
    kept = [e for e in load_endpoints(path) if (e.base_url, e.model) != (endpoint.base_url, endpoint.model)]
    return save_endpoints([*kept, endpoint], path)


def resolve_endpoint(base_url: str, model: str, transport: str | None = None, path: Path | None = None) -> Endpoint:
    """An endpoint from the command line, with the key and settings of a matching configured one."""
    url = normalise_base_url(base_url)
    for e in load_endpoints(path):
        if e.base_url == url and e.model == model:
            if transport:
                e.transport = transport
            return e
    return Endpoint(url, model, transport=transport or "http")
