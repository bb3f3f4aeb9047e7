"""The wafer view paints the emulated layout and lights the layer a token is in."""


import pytest
from PySide6.QtGui import QColor

from app.qt.presentation import PRESENTATION_SCALE
from app.qt.view_parts import GaugeColumn
from app.qt.widgets.wafer_view import ACTIVE, WaferView
from engine.wafer import ActivityTrace, emulation



@pytest.fixture
def view(qtbot):
    widget = WaferView()
    widget.resize(640, 560)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def pixel(widget, point) -> QColor:
    image = widget.grab().toImage()
    ratio = image.devicePixelRatio()
    return QColor(image.pixel(round(point.x() * ratio), round(point.y() * ratio)))


def inside(rect):
    """A point well inside a region but off its centred label."""
    return rect.topLeft() + type(rect.topLeft())(rect.width() * 0.25, rect.height() * 0.2)


def brightness(color: QColor) -> float:
    return 0.299 * color.redF() + 0.587 * color.greenF() + 0.114 * color.blueF()


def test_the_layer_a_token_is_in_lights_up_and_the_others_stay_dark(view):
    emu = emulation("wse-3", "llama-3.1-70b", 300)
    trace = ActivityTrace(emu)
    view.set_layout(trace.layout())
    start = emu.ttft_ms + sum(d for _, _, d in emu.step_phases()[:12]) / 1000  # inside layer 11 or so
    frame = trace.frame_at(start + 1e-4)
    view.show_frame(frame)
    view.grab()  # paint once so region positions are known
    current, far = frame["active"][0], frame["active"][0] + 40
    lit = pixel(view, inside(view.region_rect(current)))
    dark = pixel(view, inside(view.region_rect(far)))
    assert abs(lit.red() - ACTIVE.red()) < 40 and abs(lit.green() - ACTIVE.green()) < 40
    assert brightness(lit) > 2 * brightness(dark)
    assert f"layer {frame['layer'] + 1}/80" in view.status_text()


def test_a_simulated_stream_moves_the_light_and_leaves_a_screenshot(view, qtbot, tmp_path):
    emu = emulation("wse-3", "llama-3.1-70b", 300)
    trace = ActivityTrace(emu)
    view.set_layout(trace.layout())
    lit_regions, decode_frames = set(), 0
    t = 0.0
    while decode_frames < 12:
        frame = trace.next_frame(t)
        if frame is not None:
            view.show_frame(frame)
            if frame["phase"] == "decode" and frame["layer"] is not None:
                lit_regions.add(frame["active"][0])
                decode_frames += 1
        t += emu.per_token_ms  # the session loop asks after every released token
    qtbot.waitUntil(lambda: view.status_text().startswith("token"))
    assert len(lit_regions) > 3  # the light moved across the wafer
    shot = tmp_path / "wafer_view.png"
    view.grab().save(str(shot))
    assert shot.stat().st_size > 5_000


def test_prefill_lights_every_layer(view):
    emu = emulation("wse-3", "llama-3.1-8b", 2000)
    trace = ActivityTrace(emu)
    view.set_layout(trace.layout())
    view.show_frame(trace.frame_at(emu.ttft_ms / 2))
    view.grab()
    layers = [r["id"] for r in trace.layout()["regions"] if r["kind"] == "layer"]
    assert all(brightness(pixel(view, inside(view.region_rect(i)))) > 0.5 for i in layers[::7])
    assert view.status_text().startswith("prefill")


def test_gpu_node_and_wafer_wide_layouts_paint(view):
    for emu in (emulation("h100x8", "llama-3.1-405b", 100), emulation("wse-2", "llama-3.1-8b", 100, strategy="wafer-wide")):
        trace = ActivityTrace(emu)
        view.set_layout(trace.layout())
        view.show_frame(trace.frame_at(emu.ttft_ms + 0.05))
        view.grab()
        assert all(view.region_rect(r["id"]) is not None for r in trace.layout()["regions"])
    # 405B outgrows one 8×H100 node: the count says why it is 16, not a bare "16 GPUs" under "8x".
    view.set_layout(ActivityTrace(emulation("h100x8", "llama-3.1-405b", 100)).layout())
    assert "16 GPUs in 2 nodes" in view._subtitle_parts()


@pytest.mark.parametrize("bad", ["junk", {"grid": 5}, {"grid": {"cols": 0, "rows": 3}, "regions": [{"id": 1}]}, {"regions": []}])
def test_bad_layouts_show_a_message_instead_of_crashing(view, bad):
    view.set_layout(bad)
    view.show_frame({"active": [1, "x", None], "levels": ["bright"]})
    view.show_frame("not a frame")
    view.grab()
    assert view.status_text()


def test_local_profile_says_there_is_no_emulation(view):
    view.set_layout(ActivityTrace(emulation("local", "tessera-edit-mini", 10)).layout())
    view.grab()
    assert "no emulation" in view.status_text()
    view.clear()
    assert view.status_text() == "No emulation"


def test_tiny_window_still_paints(view):
    view.set_layout(ActivityTrace(emulation("wse-3", "llama-3.1-405b", 100)).layout())
    view.resize(view.minimumSizeHint())
    assert not view.grab().isNull()


@pytest.mark.parametrize("profile, model", [("wse-3", "llama-3.1-70b"), ("h100x8", "llama-3.1-405b")])
def test_text_stays_legible_and_whole_at_the_gauge_columns_width(view, tmp_path, profile, model):
    """In the window the view gets ~290 × 260 px: its text must still read from a projector."""
    emu = emulation(profile, model, 300)
    trace = ActivityTrace(emu)
    view.set_layout(trace.layout())
    view.show_frame(trace.frame_at(emu.ttft_ms + 1000.5 * emu.per_token_ms))  # token 1,000
    view.resize(290, 260)
    view.grab().save(str(tmp_path / "column.png"))
    assert view.body_px() >= 16  # ~12 pt: the smallest size a room can read
    assert not any("…" in line for line in view.drawn_text), view.drawn_text  # nothing cut off
    text = " ".join(view.drawn_text)
    assert model in text and "tok/s" in text and "token 1" in text and " ms" in text
    assert any(view.region_rect(r["id"]) for r in trace.layout()["regions"])  # the grid still shows
    view.set_scale(1.3)  # presentation mode
    view.grab()
    assert view.body_px() > 16
    assert model in " ".join(view.drawn_text)  # the least telling details give way first


@pytest.mark.parametrize("profile, model", [("h100x8", "llama-3.1-70b"), ("gb200nvl72", "llama-3.1-405b"),
                                            ("b200x8", "llama-3.1-8b")])
def test_the_gpu_grid_keeps_its_height_in_the_presentation_column(qtbot, profile, model):
    """The gauge column in presentation mode on a 1080p projector (~500 × 880 px): the grid of
    GPUs is a picture, not a strip under large text, and the text stays whole."""
    column = GaugeColumn()
    qtbot.addWidget(column)
    column.resize(497, 882)
    column.set_profile(profile, profile)
    column.set_scale(PRESENTATION_SCALE)
    column.show()
    qtbot.waitExposed(column)
    emu = emulation(profile, model, 300)
    trace = ActivityTrace(emu)
    wafer = column.wafer
    wafer.set_layout(trace.layout())
    wafer.show_frame(trace.frame_at(emu.ttft_ms + 100.5 * emu.per_token_ms))
    wafer.grab()
    grid = wafer.grid_rect()
    assert wafer.height() >= 0.4 * column.height()  # the column shares its height with the view
    assert grid.height() >= 140 and grid.height() >= 0.35 * wafer.height(), (grid, wafer.size())
    assert wafer.body_px() >= 24
    assert not any("…" in line for line in wafer.drawn_text), wafer.drawn_text


def test_a_72_gpu_node_fills_a_wide_view_instead_of_a_thin_column(view):
    """GB200 NVL72 comes as 4 × 18 GPUs; in a wide, short view that was a strip 1/10 of its width."""
    trace = ActivityTrace(emulation("gb200nvl72", "llama-3.1-70b", 100))
    layout = trace.layout()
    assert layout["grid"] == {"cols": 4, "rows": 18}
    view.set_layout(layout)
    view.resize(480, 300)
    view.grab()
    grid = view.grid_rect()
    assert grid.width() >= 0.6 * view.width(), grid
    rects = [view.region_rect(r["id"]) for r in layout["regions"]]
    assert len({(round(r.x()), round(r.y())) for r in rects}) == 72  # every GPU has a place of its own
    assert min(r.width() for r in rects) >= 20  # each reads as a tile, not a sliver


def test_text_a_narrow_column_cuts_is_whole_in_the_tooltip(view, qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    emu = emulation("wse-3", "llama-3.1-70b", 300)
    trace = ActivityTrace(emu)
    view.set_layout(trace.layout())
    view.show_frame(trace.frame_at(emu.ttft_ms + 10.5 * emu.per_token_ms))
    view.resize(220, 200)
    view.grab()
    assert any("…" in line for line in view.drawn_text)  # this narrow, something is cut
    caption = view.caption()
    assert "…" not in caption and "llama-3.1-70b" in caption and "token 1" in caption
    view.show()
    QApplication.sendEvent(view, QHelpEvent(QHelpEvent.Type.ToolTip, QPoint(5, 5), view.mapToGlobal(QPoint(5, 5))))
    qtbot.waitUntil(lambda: QToolTip.isVisible() and QToolTip.text() == caption)
