"""The model picker and the endpoint dialog, driven through real widgets."""

from __future__ import annotations

import socket

import pytest

from app.core.link.client import parse_welcome
from app.core.link.engine_link import endpoint_args
from app.main import build_parser, endpoint_from_args
from app.qt.assembly import assemble
from app.qt.dialogs.model_picker import ModelPicker
from engine.backends.endpoints import Endpoint, load_endpoints, save_endpoints

WAIT_MS = 30_000
KEY = "sk-picker-secret-123"


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSERA_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return tmp_path


@pytest.fixture
def picked():
    return []


@pytest.fixture
def window_and_picker(qtbot, qloop, config_dir, picked):
    window = assemble(with_engine=False).window
    qtbot.addWidget(window)
    picker = ModelPicker(window, picked.append)  # fills the window's model menu
    window.show()
    yield window, picker
    window.stop_timers()
    window.controller.cancel_tasks()


@pytest.fixture
def win(window_and_picker):
    return window_and_picker[0]


@pytest.fixture
def picker(window_and_picker):
    return window_and_picker[1]


def menu_labels(window) -> list[str]:
    return [a.text() for a in window.toolbar.model_menu.actions() if a.text()]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_picker_lists_bundled_model_folders_and_configured_endpoints(qtbot, win, picked):
    save_endpoints([Endpoint("http://127.0.0.1:8080/v1", "qwen2.5-coder", api_key=KEY, transport="websocket")])
    win.toolbar.model_menu.aboutToShow.emit()  # what opening the menu does
    labels = menu_labels(win)
    assert labels[0] == "tessera-edit-mini (bundled)"
    assert win.toolbar.model_menu.actions()[0].isChecked()  # the app starts on the bundled model
    assert "tiny-random (folder)" in labels
    assert "qwen2.5-coder @ 127.0.0.1:8080 (websocket)" in labels
    assert labels[-2:] == ["Load a model folder…", "Add an endpoint…"]
    assert not [t for t in labels if KEY in t]
    [act] = [a for a in win.toolbar.model_menu.actions() if a.text().startswith("qwen2.5-coder")]
    act.trigger()
    assert picked[-1].kind == "endpoint" and picked[-1].endpoint.model == "qwen2.5-coder"
    win.toolbar.model_menu.aboutToShow.emit()
    [act] = [a for a in win.toolbar.model_menu.actions() if a.text().startswith("qwen2.5-coder")]
    assert act.isChecked()


def test_a_broken_endpoints_file_is_shown_not_fatal(qtbot, win, config_dir):
    (config_dir / "endpoints.json").write_text("{oops", encoding="utf-8")
    win.toolbar.model_menu.aboutToShow.emit()
    assert "endpoints.json" in win.status_label.text()
    assert "tessera-edit-mini (bundled)" in menu_labels(win)


def test_the_dialog_tests_an_unreachable_endpoint_and_keeps_the_key_hidden(qtbot, picker):
    dialog = picker.open_dialog()
    qtbot.keyClicks(dialog.url_edit, f"http://127.0.0.1:{closed_port()}/v1")
    qtbot.keyClicks(dialog.model_edit, "m")
    qtbot.keyClicks(dialog.key_edit, KEY)
    assert dialog.key_edit.displayText() != KEY
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled() and dialog.result_label.text() != "Testing…",
                    timeout=WAIT_MS)
    assert "Cannot reach" in dialog.result_label.text()
    assert KEY not in dialog.result_label.text()


def test_the_dialog_refuses_a_bad_url_and_saves_a_good_endpoint(qtbot, picker, picked):
    dialog = picker.open_dialog()
    qtbot.keyClicks(dialog.url_edit, "localhost:8080")
    qtbot.keyClicks(dialog.model_edit, "m")
    dialog.buttons.accepted.emit()
    assert "base URL" in dialog.result_label.text() and load_endpoints() == []
    dialog.url_edit.setText("http://127.0.0.1:11434/v1")
    dialog.key_edit.setText(KEY)
    with qtbot.waitSignal(dialog.saved, timeout=WAIT_MS):
        dialog.buttons.accepted.emit()
    [saved] = load_endpoints()
    assert saved.base_url == "http://127.0.0.1:11434/v1" and saved.key == KEY
    assert picked[-1].endpoint.base_url == saved.base_url  # a saved endpoint is chosen at once


def test_the_status_line_names_the_backend_and_transport(qtbot, win):
    info = parse_welcome({"type": "welcome", "protocol": 1, "profiles": ["local"],
                          "model": {"name": "m", "context_length": 4096, "backend": "remote",
                                    "transport": "websocket", "endpoint": "m @ 127.0.0.1:8080"}})
    win.set_engine_info(info, "127.0.0.1:5555")
    assert "remote m @ 127.0.0.1:8080 over websocket" in win.engine_label.text()
    win.set_engine_info(parse_welcome({"model": {"name": "tiny", "context_length": 256}}), "127.0.0.1:5555")
    assert "local ONNX" in win.engine_label.text()


def test_the_command_line_endpoint_becomes_serve_options_without_the_key(config_dir, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    args = build_parser().parse_args(["--endpoint", "http://127.0.0.1:8080/v1/", "--endpoint-model", "m",
                                      "--transport", "websocket"])
    ep = endpoint_from_args(args)
    argv = endpoint_args(ep)
    assert argv == ("--endpoint", "http://127.0.0.1:8080/v1", "--endpoint-model", "m", "--transport", "websocket")
    assert KEY not in " ".join(argv) and ep.key == KEY
    with pytest.raises(SystemExit, match="endpoint-model"):
        endpoint_from_args(build_parser().parse_args(["--endpoint", "http://h/v1"]))

