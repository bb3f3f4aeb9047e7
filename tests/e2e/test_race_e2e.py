"""Race mode on a real engine process with the bundled model: lanes start together, each lane
shows its own figures (the engine's times), and the margin is computed from those times."""

from __future__ import annotations

import pytest

from app.core.demo.playlist import DEMOS_DIR, selection_range
from app.core.demo.race import LaneSpec, format_seconds, race_margin
from app.core.demo.race_run import RaceEdit
from app.core.link.client import EngineClient, EngineProcess
from app.qt.demo.race_window import RaceWindow
from engine.model.modelspec import MODELS_DIR

BUNDLED = MODELS_DIR / "tessera-edit-mini"
DEMO_FILE = DEMOS_DIR / "code" / "stdlib_helpers.py"


@pytest.fixture
def client(run_async):
    process = EngineProcess(str(BUNDLED))
    url = run_async(process.start(), 120_000)
    engine = EngineClient()
    run_async(engine.connect(url, process.token))
    yield engine
    run_async(engine.close())
    run_async(process.stop())


def _edit() -> RaceEdit:
    text = DEMO_FILE.read_text(encoding="utf-8")
    return RaceEdit(text, selection_range(text, "_format_final_exc_line"), "convert to f-strings",
                    path=str(DEMO_FILE))


@pytest.mark.parametrize("lanes", [
    (LaneSpec("8× H100", "h100x8", "llama-3.1-70b"), LaneSpec("WSE-3", "wse-3", "llama-3.1-70b")),
    (LaneSpec("8× H100", "h100x8", "llama-3.1-70b"), LaneSpec("8× B200", "b200x8", "llama-3.1-70b"),
     LaneSpec("here", "local")),
])
def test_a_race_runs_every_lane_and_reports_the_margin(qtbot, run_async, client, lanes):
    win = RaceWindow(lanes)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.raceFinished, timeout=60_000) as finished:
        task = win.start(client, _edit(), first_line=11)
    run_async(task, 60_000)
    run = win.run
    # Started together: every lane's generate went out before any lane's first token was handled.
    first_token = next(i for i, (what, _) in enumerate(run.log) if what == "token")
    assert [what for what, _ in run.log[:len(lanes)]] == ["sent"] * len(lanes)
    assert first_token >= len(lanes)
    for view, lane in zip(win.lane_views, run.lanes):
        assert lane.reason == "eos" and lane.tokens > 20
        # Its own figures, from its own engine times.
        assert view.finish[0].text() == format_seconds(lane.finish_ms)
        assert view.tok_s[0].text() == f"{lane.decode_tok_s():,.0f}"
        assert view.provenance.text() == lane.spec.provenance()
        assert "f\"{etype}: {valuestr}\\n\"" in view.diff.diff.output_text
    h100 = run.lanes[0]
    assert h100.emulated_tok_s and h100.emulated_tok_s < 200  # the engine paced it as 8× H100
    assert h100.finish_ms > h100.tokens * 1000.0 / 200  # ...and it took the time that implies
    assert finished.args[0] == race_margin(run.lanes) == win.margin.text()
    assert win.margin.isVisible()
    fastest = min(run.lanes, key=lambda lane: lane.finish_ms)
    assert win.margin.text().startswith(f"{fastest.spec.label} wins: ")
