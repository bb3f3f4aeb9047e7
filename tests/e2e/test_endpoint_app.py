"""The app on a remote endpoint: a second engine process serving the OpenAI API, through real widgets."""

from __future__ import annotations

import pytest

from engine.backends.endpoints import Endpoint, save_endpoints

WAIT_MS = 30_000


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSERA_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return tmp_path


@pytest.fixture
def api_peer(tiny_model_dir):
    """A second engine process serving the OpenAI API: the remote endpoint the app relays to."""
    import httpx2

    from tests.conftest import EngineProcess

    eng = EngineProcess(tiny_model_dir)
    base = eng.url.replace("ws://", "http://", 1) + "/v1"
    model = httpx2.get(base + "/models", headers={"Authorization": f"Bearer {eng.token}"}).json()["data"][0]["id"]
    yield base, model, eng.token
    eng.close()


@pytest.mark.parametrize("transport", ["http", "websocket"])
def test_the_app_edits_through_an_endpoint_and_says_so(qtbot, qloop, run_async, config_dir, api_peer, transport):
    from PySide6.QtCore import Qt

    from app.qt.assembly import assemble

    base, model, key = api_peer
    parts = assemble(endpoint=Endpoint(base, model, api_key=key, transport=transport))
    win, link = parts.window, parts.link
    qtbot.addWidget(win)
    save_endpoints([link.endpoint])  # the child engine finds the key in the config file, not in argv
    win.controller.configure(max_tokens=12)
    win.show()
    try:
        run_async(link.start())
        assert f"over {transport}" in win.engine_label.text() and "remote" in win.engine_label.text()
        assert key not in " ".join(link.process.argv)
        win.editor.setPlainText("def area(w, h):\n    return w * h\n")
        qtbot.keyClick(win, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(win.bar.field, "rename w to width")
        qtbot.keyClick(win.bar.field, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: win.controller.run is not None and win.controller.run.finished
                        and win.controller.mode != "streaming", timeout=WAIT_MS)
        run = win.controller.run
        assert run.tokens > 0 and run.stats.transport == transport
        assert "```" not in run.output
        status = win.status_label.text()
        assert f"via {transport}" in status
        if transport == "http":  # predicted outputs ride on Chat Completions, not the Responses API
            assert "predicted output" in status and "tokens accepted" in status
    finally:
        win.stop_timers()
        run_async(parts.shutdown())


def test_the_dialog_tests_a_real_endpoint(qtbot, qloop, config_dir, api_peer):
    from app.qt.assembly import assemble
    from app.qt.dialogs.model_picker import ModelPicker

    base, model, key = api_peer
    win = assemble(with_engine=False).window
    qtbot.addWidget(win)
    chosen = []
    picker = ModelPicker(win, chosen.append)
    win.show()
    try:
        dialog = picker.open_dialog()
        dialog.url_edit.setText(base)
        dialog.model_edit.setText(model)
        dialog.key_edit.setText(key)
        dialog.test_button.click()
        qtbot.waitUntil(lambda: dialog.result_label.text().startswith("Connected"), timeout=WAIT_MS)
        assert model in dialog.result_label.text() and key not in dialog.result_label.text()
        dialog.key_edit.setText("sk-not-the-token")
        dialog.test_button.click()
        qtbot.waitUntil(lambda: "refused the key" in dialog.result_label.text(), timeout=WAIT_MS)
    finally:
        win.stop_timers()
        win.controller.cancel_tasks()
