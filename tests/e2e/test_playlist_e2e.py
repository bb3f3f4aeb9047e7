"""Demo playlists played in the real window on a real engine with the bundled model: Page Down
advances, captions show, each step's edit, stop, steer, review and race really happen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.core.demo.playlist import shipped_playlists
from app.qt.assembly import assemble
from engine.model.modelspec import MODELS_DIR

BUNDLED = MODELS_DIR / "tessera-edit-mini"
WAIT_MS = 60_000


@pytest.fixture
def win(qtbot, run_async):
    parts = assemble(model_dir=str(BUNDLED))
    window, link = parts.window, parts.link
    qtbot.addWidget(window)
    window.show()
    run_async(link.start(), 120_000)
    yield window
    if window.demo.race_window is not None:
        window.demo.race_window.close()
    window.stop_timers()
    run_async(parts.shutdown())


def _next(qtbot, win, player, index: int) -> None:
    """Page Down with the focus in the editor, as a presenter's clicker would send it."""
    win.activateWindow()
    win.editor.setFocus()
    qtbot.keyClick(win.editor, Qt.Key.Key_PageDown)
    assert player.index == index
    assert player.caption.text_label.text() == player.playlist.steps[index].caption
    assert f"Step {index + 1} of {len(player.playlist.steps)}" in player.caption.step_label.text()


def _settled(win) -> bool:
    return win.controller.mode in ("reviewing", "idle", "stopped") and win.controller.run is not None \
        and win.controller.run.finished


def test_what_1000_tok_s_feels_like(qtbot, win):
    c = win.controller
    player = win.demo.play(shipped_playlists()["thousand-tok-s"])
    assert player.index == 0 and player.caption.isVisible()
    assert win.editor.textCursor().selectedText().startswith("def _format_final_exc_line")

    _next(qtbot, win, player, 1)  # f-strings at 8× H100 pace
    qtbot.waitUntil(lambda: c.mode == "reviewing", timeout=WAIT_MS)
    assert c.settings.profile == "h100x8" and c.settings.emulate == "llama-3.1-70b"
    assert win.toolbar.profile() == ("h100x8", "Llama 3.1 70B on 8×H100")  # the Hardware box shows the pairing
    assert c.run.stats.emulated_tok_s and c.run.stats.emulated_tok_s < 200
    assert 'f"{etype}: {valuestr}\\n"' in c.run.output

    _next(qtbot, win, player, 2)  # accept the first change
    assert 'line = f"{etype}\\n"' in win.document_text()
    assert 'line = "%s: %s\\n" % (etype, valuestr)' in win.document_text()
    _next(qtbot, win, player, 3)  # reject the second
    assert 'line = "%s: %s\\n" % (etype, valuestr)' in win.document_text()
    assert c.mode == "idle"

    _next(qtbot, win, player, 4)  # wafer pace
    qtbot.waitUntil(lambda: c.mode == "reviewing" and "print_sorted" in c.run.output, timeout=WAIT_MS)
    assert c.settings.profile == "wse-3" and c.run.stats.emulated_tok_s > 500
    _next(qtbot, win, player, 5)  # accept all
    assert "def print_sorted(title, data):" in win.document_text()

    _next(qtbot, win, player, 6)  # steer mid-stream: docstring → rename
    qtbot.waitUntil(lambda: c.mode == "reviewing" and c.run.instruction.startswith("rename"), timeout=WAIT_MS)
    assert "return os.strerror(code)" in c.run.output and '"""' not in c.run.output
    assert win.diff_view.diff.redirects  # the redirect marker is in the diff

    _next(qtbot, win, player, 7)  # stop
    qtbot.waitUntil(lambda: c.mode == "stopped", timeout=WAIT_MS)
    stopped_at = c.run.tokens
    assert 3 <= stopped_at < 20 and c.run.stopped
    _next(qtbot, win, player, 8)  # redirect the stopped edit
    qtbot.waitUntil(lambda: c.mode == "reviewing" and c.run.finished, timeout=WAIT_MS)
    assert "if not kind:" in c.run.output and c.run.tokens > stopped_at

    _next(qtbot, win, player, 9)
    assert not player.advance()  # the end
    assert "End of the demo" in player.caption.text_label.text()
    assert player.errors == []


def test_gpu_cluster_vs_wafer(qtbot, win):
    c = win.controller
    player = win.demo.play(shipped_playlists()["gpu-vs-wafer"])
    _next(qtbot, win, player, 1)
    qtbot.waitUntil(lambda: c.mode == "reviewing", timeout=WAIT_MS)
    slow_run = c.run
    slow_tok_s = slow_run.stats.emulated_tok_s
    _next(qtbot, win, player, 2)
    qtbot.waitUntil(lambda: c.run is not slow_run and _settled(win), timeout=WAIT_MS)
    assert c.settings.profile == "wse-3"
    assert c.run.stats.emulated_tok_s > 5 * slow_tok_s

    for index, lanes in ((3, 2), (4, 3)):
        _next(qtbot, win, player, index)
        race = win.demo.race_window
        assert race is not None and len(race.lane_views) == lanes
        assert player.playlist.steps[index].caption in race.caption.text()
        qtbot.waitUntil(lambda: race.margin.isVisible(), timeout=WAIT_MS)
        assert race.margin.text().startswith("Llama 3.1 70B on Cerebras WSE-3 wins: ")
        for view in race.lane_views:
            assert view.provenance.text().startswith("EMULATED")
        race.activateWindow()
        qtbot.keyClick(race, Qt.Key.Key_PageDown) if index == 3 else None  # the key works there too
        if index == 3:
            assert player.index == 4
            qtbot.waitUntil(lambda: win.demo.race_window is not race, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: win.demo.race_window.margin.isVisible(), timeout=WAIT_MS)
    _next(qtbot, win, player, 5)
    assert not win.demo.race_window.isVisible()  # a caption step brings the main window back
    assert player.errors == []


def test_a_step_that_cannot_run_says_why_and_the_next_key_moves_on(qtbot, window, tmp_path):
    code = tmp_path / "code.py"
    code.write_text("def f(x):\n    return x\n", encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "t"\n[[step]]\ncaption = "one"\nfile = "code.py"\nselection = "f"\n'
                   'instruction = "add a docstring"\npacing = "tpu-v9"\n'
                   '[[step]]\ncaption = "two"\nselection = "g"\nkind = "caption"\n'
                   '[[step]]\ncaption = "three"\n', encoding="utf-8")
    player = window.demo.play(bad)
    assert "no hardware profile 'tpu-v9'" in player.caption.text_label.text()
    assert player.caption.text_label.property("error") is True
    assert window.controller.run is None  # nothing was sent
    qtbot.keyClick(window.editor, Qt.Key.Key_PageDown)
    assert "no top-level function 'g'" in player.caption.text_label.text()
    qtbot.keyClick(window.editor, Qt.Key.Key_PageDown)
    assert player.caption.text_label.text() == "three" and len(player.errors) == 2
    broken = tmp_path / "broken.toml"
    broken.write_text("title = ", encoding="utf-8")
    assert window.demo.play(broken) is None
    assert "not valid TOML" in window.status_label.text()


def test_ctrl_shift_r_races_the_instruction_in_the_bar_on_the_selection(qtbot, win):
    from app.core.demo.playlist import DEMOS_DIR, selection_range

    assert win.open_path(str(DEMOS_DIR / "code" / "stdlib_helpers.py"))
    start, end = selection_range(win.document_text(), "_getaction")
    cursor = win.editor.textCursor()
    cursor.setPosition(start + 5)  # the cursor inside the function: it is the target
    win.editor.setTextCursor(cursor)
    win.bar.field.setText("rename variable action to name")
    win.editor.setFocus()
    qtbot.keyClick(win.editor, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    race = win.demo.race_window
    assert race is not None and [v.spec.profile for v in race.lane_views] == ["h100x8", "wse-3"]
    qtbot.waitUntil(lambda: race.margin.isVisible(), timeout=WAIT_MS)
    assert race.run.edit.selection == (start, end)
    for view in race.lane_views:
        assert "def _getaction(name):" in view.diff.diff.output_text
    assert win.document_text()[start:end].startswith("def _getaction(action):")  # the file is untouched
