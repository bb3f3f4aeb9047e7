"""Gauges show what a stream with known timing should read, in text big enough for a projector."""

import pytest

from app.core.metrics import StreamMetrics
from app.qt.widgets.gauges import MetricsPanel, RateTimeline, SpeedGauge, TtftGauge

from wire import DoneStats


class FakeClock:
    def __init__(self):
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def known_stream(metrics: StreamMetrics, clock: FakeClock) -> None:
    """Click at 0 s, first token at 150 ms, then 1,200 tok/s for 0.5 s."""
    metrics.on_request_start(0.0)
    for k in range(601):
        clock.now_s = 0.150 + k / 1200
        metrics.on_tokens(1, clock.now_s)
        if k == 0:
            metrics.on_first_paint(0.158)


def test_panel_reads_a_known_stream(qtbot):
    clock = FakeClock()
    panel = MetricsPanel(clock=clock)
    qtbot.addWidget(panel)
    panel.resize(360, 620)
    metrics = StreamMetrics()
    known_stream(metrics, clock)
    panel.bind(metrics)
    panel.tick(clock.now_s)
    assert panel.speed.instant_tok_s == pytest.approx(1200, rel=0.01)
    assert panel.speed.instant_text == "1,200"
    assert panel.speed.average_text == "avg 1,200"
    assert panel.speed.scale_tok_s == 2000  # the dial rescaled to fit the rate
    assert panel.ttft.client_text == "158 ms"
    assert panel.ttft.engine_text == "engine –"  # the engine has not reported yet
    metrics.on_done(DoneStats(ttft_ms=96.4, decode_tok_s=1187.0, lag_ms=40.0))
    panel.tick(clock.now_s + 1.0)
    assert panel.ttft.engine_text == "engine 96 ms"
    assert panel.speed.instant_tok_s == 0.0  # stream over: the headline is now the average
    assert (panel.speed.instant_text, panel.speed.caption_text) == ("1,200", "tok/s average")
    assert panel.speed.lag_ms == 40.0
    assert panel.timeline.peak_tok_s == pytest.approx(1200, rel=0.05)
    panel.bind(None)


def test_numbers_refresh_at_a_readable_pace_while_the_arc_follows_every_frame(qtbot):
    gauge = SpeedGauge(text_interval_s=0.125)
    qtbot.addWidget(gauge)
    gauge.set_rates(900.0, 850.0, now_s=1.0)
    gauge.set_rates(950.0, 860.0, now_s=1.016)
    assert gauge.instant_tok_s == 950.0 and gauge.instant_text == "900"
    gauge.set_rates(980.0, 870.0, now_s=1.2)
    assert gauge.instant_text == "980"


def test_gauges_paint_large_legible_text(qtbot):
    clock = FakeClock()
    panel = MetricsPanel(clock=clock)
    qtbot.addWidget(panel)
    panel.resize(360, 620)
    panel.show()
    qtbot.waitExposed(panel)
    metrics = StreamMetrics()
    known_stream(metrics, clock)
    panel.bind(metrics)
    image = panel.grab().toImage()
    assert image.width() == 360
    # the big number is drawn: many bright pixels in the dial's centre band
    bright = sum(1 for x in range(60, 300, 2) for y in range(120, 200, 2)
                 if image.pixelColor(x, y).lightness() > 200)
    assert bright > 50
    panel.bind(None)


def test_ttft_and_timeline_accept_empty_readings(qtbot):
    ttft, timeline = TtftGauge(), RateTimeline()
    qtbot.addWidget(ttft)
    qtbot.addWidget(timeline)
    ttft.set_ttft(None, None)
    timeline.set_series([])
    assert ttft.client_text == "–" and timeline.peak_tok_s == 0.0
    ttft.set_ttft(4.25, 3.0)
    assert (ttft.client_text, ttft.engine_text) == ("4.2 ms", "engine 3.0 ms")
    ttft.grab()
    timeline.set_series([(0.0, 10.0), (0.1, 30.0)])
    timeline.grab()


def test_ttft_shows_when_the_edit_ends_before_its_first_frame(qtbot):
    """A fast model can deliver a whole edit and `done` before the diff pane paints once."""
    from app.qt.view_parts import GaugeColumn

    column = GaugeColumn()
    qtbot.addWidget(column)
    column.request_start(10.0)
    column.tokens(40, 10.030, 38)
    column.done(DoneStats(ttft_ms=6.0, decode_tok_s=2000.0))
    column.first_paint(10.045)  # the frame comes after `done`
    assert column.panel.ttft.client_ms == pytest.approx(45.0)
    assert column.panel.ttft.engine_ms == pytest.approx(6.0)


def test_a_burst_of_arrivals_reads_as_the_engines_rate_not_a_made_up_one(qtbot):
    clock = FakeClock()
    panel = MetricsPanel(clock=clock)
    qtbot.addWidget(panel)
    metrics = StreamMetrics()
    metrics.on_request_start(0.0)
    metrics.on_tokens(1, 0.080)
    metrics.on_tokens(38, 0.0826)  # the rest of a fast edit, 2.6 ms later: "14,615 tok/s"
    metrics.on_done(DoneStats(ttft_ms=15.0, decode_tok_s=1314.0))
    clock.now_s = 0.1
    panel.bind(metrics)
    assert panel.speed.instant_text == "1,314" and panel.speed.caption_text == "tok/s average"
    paced = StreamMetrics()  # an emulated profile: arrivals slower than the engine decoded
    paced.on_request_start(0.0)
    for k in range(30):
        paced.on_tokens(1, 0.1 + k * 0.048)
    paced.on_done(DoneStats(decode_tok_s=1154.0, paced=True, emulated_tok_s=20.8))
    clock.now_s = 5.0
    panel.bind(paced)
    # One headline, the pace the user saw and the status line states; local compute second, labelled.
    assert panel.speed.instant_text == "21" and panel.speed.caption_text == "tok/s emulated"
    assert panel.speed.average_text == "1,154 computed here"


def test_the_status_line_states_the_figure_the_gauge_shows_and_labels_the_engines(qtbot):
    """Unpaced: the arrival average (1,200) is the one figure; the engine's decode rate (1,187) is
    shown second and labelled, in the gauge and in the status line alike."""
    from app.core.edit.outcome import speed_summary as _speed_summary
    from app.qt.view_parts import GaugeColumn

    clock = FakeClock()
    column = GaugeColumn(clock=clock)
    qtbot.addWidget(column)
    known_stream(column.metrics, clock)
    column.panel.bind(column.metrics)
    stats = DoneStats(ttft_ms=96.4, decode_tok_s=1187.0)
    shown = column.done(stats)
    speed = column.panel.speed
    assert shown == pytest.approx(1200, rel=0.01)
    assert (speed.instant_text, speed.caption_text, speed.average_text) == (
        "1,200", "tok/s average", "engine decode 1,187")
    assert _speed_summary(601, stats, shown) == "601 tokens, 1,200 tok/s average (engine decode 1,187)"
    # A burst (a fast edit delivered in one go) reads as the engine's rate, once.
    assert _speed_summary(39, DoneStats(decode_tok_s=1314.0), 1314.0) == "39 tokens, 1,314 tok/s average"
    # Emulated: the paced figure first, the local compute second, as the gauge says it.
    assert _speed_summary(30, DoneStats(decode_tok_s=1154.0, paced=True, emulated_tok_s=20.8), 20.8) == \
        "30 tokens, 21 tok/s emulated (1,154 computed here)"
