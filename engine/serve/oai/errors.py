"""OpenAI-shaped errors and the checks that turn a bad request body into one."""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    """An error the API answers with ``{"error": {"message", "type", "code", "param"}}``."""

    def __init__(self, status: int, message: str, type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status = status  # HTTP status code
        self.type = type  # OpenAI's error type
        self.code = code  # machine-readable code
        self.param = param  # the request field at fault

    def body(self) -> dict:
        return {"error": {"message": str(self), "type": self.type, "code": self.code, "param": self.param}}


def bad(message: str, param: str | None = None, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, code=code, param=param)


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad(f"the request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise bad("the request body must be a JSON object", code="invalid_json")
    return body


def field(body: dict, name: str, kinds: type | tuple[type, ...], default: Any = None, required: bool = False) -> Any:
    """body[name] if it has one of `kinds` (null counts as absent); a 400 otherwise."""
    value = body.get(name)
    if value is None:
        if required:
            raise bad(f"'{name}' is required", name, "missing_required_parameter")
        return default
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join({int: "an integer", float: "a number", str: "a string", bool: "a boolean",
                             list: "an array", dict: "an object"}[k] for k in kinds)
        raise bad(f"'{name}' must be {names}", name, "invalid_type")
    return value


def number(body: dict, name: str, low: float, high: float, default: float | None = None) -> float | None:
    value = field(body, name, (int, float))
    if value is None:
        return default
    if not low <= value <= high:
        raise bad(f"'{name}' must be between {low} and {high}", name)
    return float(value)


def positive_int(body: dict, *names: str) -> int | None:
    """The first of `names` present, an integer ≥ 1 (None when none is present)."""
    for name in names:
        value = field(body, name, int)
        if value is not None:
            if value < 1:
                raise bad(f"'{name}' must be at least 1", name)
            return value
    return None


def text_of(content: Any, param: str) -> str:
    """A message's content: a string, or an array of text parts (other part types refused)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict):
                raise bad(f"each part of '{param}' must be an object", param)
            if part.get("type") in ("text", "input_text", "output_text") and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                raise bad(f"'{param}' holds a {part.get('type')!r} part; this model reads text only", param,
                          "unsupported_content")
        return "".join(texts)
    raise bad(f"'{param}' must be a string or an array of text parts", param, "invalid_type")
