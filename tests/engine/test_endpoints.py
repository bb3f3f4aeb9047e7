"""Endpoint settings: the config file, the key's sources, and that a key is never shown."""

from __future__ import annotations

import json
import stat

import pytest

from engine.backends.endpoints import (Endpoint, EndpointError, add_endpoint, config_path, load_endpoints, resolve_endpoint,
                              save_endpoints)

KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSERA_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return tmp_path


def test_endpoints_round_trip_with_a_private_file(config_dir):
    ep = Endpoint("http://127.0.0.1:8080/v1/", "qwen2.5-coder", api_key=KEY, transport="websocket", name="box")
    path = add_endpoint(ep)
    assert path == config_path() and path.parent == config_dir
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [back] = load_endpoints()
    assert back.base_url == "http://127.0.0.1:8080/v1" and back.key == KEY and back.transport == "websocket"
    add_endpoint(Endpoint("http://127.0.0.1:8080/v1", "qwen2.5-coder", name="renamed"))
    assert [e.name for e in load_endpoints()] == ["renamed"]  # same URL and model: replaced, not duplicated


def test_a_key_never_appears_in_repr_or_public_view(config_dir):
    ep = Endpoint("https://api.example.com/v1", "m", api_key=KEY)
    assert KEY not in repr(ep)
    assert KEY not in json.dumps(ep.public())
    assert ep.public()["has_key"] is True
    assert ep.headers() == {"Authorization": f"Bearer {KEY}"}
    assert ep.websocket_url == "wss://api.example.com/v1/responses"


def test_the_key_comes_from_the_environment_when_the_file_has_none(config_dir, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    ep = resolve_endpoint("http://127.0.0.1:9/v1", "m")
    assert ep.key == KEY and ep.transport == "http"
    assert Endpoint("http://127.0.0.1:9/v1", "m").websocket_url == "ws://127.0.0.1:9/v1/responses"


def test_resolve_takes_the_configured_key_and_the_asked_transport(config_dir):
    save_endpoints([Endpoint("http://h:1/v1", "m", api_key=KEY)])
    ep = resolve_endpoint("http://h:1/v1/", "m", "websocket")
    assert ep.key == KEY and ep.transport == "websocket"


@pytest.mark.parametrize("kwargs, words", [
    ({"base_url": "ftp://x", "model": "m"}, "base URL"),
    ({"base_url": "localhost:8080", "model": "m"}, "base URL"),
    ({"base_url": "http://h/v1", "model": " "}, "model"),
    ({"base_url": "http://h/v1", "model": "m", "transport": "grpc"}, "transport"),
])
def test_bad_endpoints_get_clear_errors(kwargs, words):
    with pytest.raises(EndpointError, match=words):
        Endpoint(**kwargs)


def test_a_broken_config_file_is_a_clear_error(config_dir):
    config_path().write_text("{not json", encoding="utf-8")
    with pytest.raises(EndpointError, match="endpoints.json"):
        load_endpoints()
    config_path().write_text(json.dumps({"endpoints": [{"base_url": "http://h/v1"}]}), encoding="utf-8")
    with pytest.raises(EndpointError, match="endpoint 1"):
        load_endpoints()
    config_path().unlink()
    assert load_endpoints() == []
