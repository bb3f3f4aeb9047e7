"""Documents far larger than one frame reach the engine in parts; beyond its limit, a clear
refusal, and the connection stays."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from app.core.files.textcodec import decode
from app.core.link.client import EngineError, document_parts
from tests.sends import record_sends


def test_parts_are_at_most_one_mib_and_never_split_a_character():
    text = "é𝄞a" * 700_000
    parts = document_parts(text)
    assert "".join(parts) == text and len(parts) > 1
    assert all(len(p.encode("utf-8")) <= 1024 * 1024 for p in parts)
    assert document_parts("small") == ["small"]


def test_a_9_mib_document_reaches_the_engine_in_parts_without_dropping_the_connection(qtbot, window, run_async,
                                                                                     tmp_path):
    source = Path(codecs.__file__).read_text(encoding="utf-8")
    text = (source * (9 * 2**20 // len(source) + 1))[:9 * 2**20]
    text = text[:text.rindex("\n") + 1]
    path = tmp_path / "huge.py"
    path.write_text(text, encoding="utf-8", newline="")
    client, empty_session = window.controller.engine.client, window.controller.engine.session
    assert window.open_path(str(path))
    qtbot.waitUntil(lambda: not window.files.loading, timeout=120_000)
    qtbot.waitUntil(lambda: window.controller.engine.session != empty_session and (
        window.controller.engine.opened or window.controller.engine.refused_chars
        or "could not open" in window.status_label.text()), timeout=120_000)
    assert window.controller.engine.opened, window.status_label.text()
    # The engine holds the whole text: a selection at its very end is inside its document.
    end = len(window.document_text())
    measured = run_async(client.measure(window.controller.engine.session, "edit", (end - 10, end)), timeout_ms=120_000)
    assert measured["type"] == "measured"
    assert client.connected and run_async(client.ping(timeout_s=30.0)) >= 0
    assert client is window.controller.engine.client  # the same connection all along
    assert decode(path.read_bytes()).text == window.document_text()

    # A keystroke, then Enter at once: only the typed characters go out (an `update` with one edit,
    # not the 9 MiB again), `generate` right behind it without waiting for the engine's `ready`.
    # The test model reads the whole file as context, so the engine answers at once that the
    # prompt cannot fit, naming its limit (a target the engine did not hold would be refused).
    sent = record_sends(client)
    cursor = window.editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    cursor.insertText("def tail(x):\n    return x + 1\n")
    cursor.setPosition(len(window.document_text()) - 5)
    window.editor.setTextCursor(cursor)
    window.controller.configure(max_tokens=8)
    window.bar.field.setText("add a docstring")
    window.bar.field.returnPressed.emit()
    qtbot.waitUntil(lambda: window.controller.run is not None and window.controller.run.finished, timeout=120_000)
    run = window.controller.run
    assert run.target.label.startswith("function tail") and run.stats.error is not None
    assert run.stats.error.code == "context_overflow" and "longer context" in window.status_label.text()
    assert run.stats.total_ms < 10_000  # the 9 MiB is not tokenized whole to find that out
    updates = [m for m in sent if m["type"] in ("update", "append")]
    assert updates and updates[0]["type"] == "update" and "text" not in updates[0]
    assert [e["text"] for e in updates[0]["edits"]] == ["def tail(x):\n    return x + 1\n"]
    assert [m["type"] for m in sent].index("update") < [m["type"] for m in sent].index("generate")
    assert client is window.controller.engine.client and client.connected and run_async(client.ping(timeout_s=30.0)) >= 0


def test_a_document_beyond_the_engines_limit_is_refused_clearly_and_the_connection_stays(window, run_async):
    client = window.controller.engine.client
    with pytest.raises(EngineError) as refused:
        run_async(client.open_document("too-big", "x = 1\n" * (12 * 2**20), "python"), timeout_ms=120_000)
    assert refused.value.code == "document_too_large"
    assert client.connected and run_async(client.ping(timeout_s=30.0)) >= 0
    assert client is window.controller.engine.client


def test_the_app_says_clearly_when_a_document_is_too_large_and_keeps_working(run_async, engine_process):
    from app.core.edit.controller import EditController
    from app.core.link.client import EngineClient
    from tests.app.test_controller import FakeView

    view = FakeView("x = 1\n" * (12 * 2**20))  # 72 MiB: past the engine's 64 MiB
    controller = EditController(view)
    client = EngineClient()
    run_async(client.connect(engine_process.url, engine_process.token))
    try:
        controller.engine.attach(client)
        run_async(controller.engine.open_document(), timeout_ms=120_000)
        text, level = view.status[-1]
        assert "too large for the engine" in text and "editing and saving work" in text and level == "warn"
        assert controller.engine.refused_chars and client.connected
        run_async(controller.engine.sync_document())  # a keystroke later: not sent again, not said again
        assert len(view.status) == 1
        view.text = "x = 1\n"
        run_async(controller.engine.sync_document(), timeout_ms=60_000)  # small again: the engine takes it
        assert controller.engine.refused_chars == 0 and controller.engine.opened
    finally:
        run_async(client.close())
