"""The Hardware box pairs a profile with the model it emulates; the wafer view lights routed experts."""

import pytest

from app.core.link.client import EngineInfo, parse_welcome
from app.qt.toolbar import MODEL_IN_USE, MainToolbar
from app.qt.widgets.wafer_view import WaferView
from engine.wafer import ActivityTrace, emulation
from engine.wafer.moe import is_moe_layer
from engine.serve.pacing import emulate_models, profile_names


def welcome() -> EngineInfo:
    return parse_welcome({"type": "welcome", "protocol": 1, "model": {"name": "tessera-edit-mini"},
                          "profiles": profile_names(), "emulate_models": emulate_models()})


@pytest.fixture
def toolbar(qtbot):
    bar = MainToolbar()
    qtbot.addWidget(bar)
    bar.show()
    return bar


def test_the_box_offers_the_model_in_use_and_the_moe_families(toolbar):
    toolbar.set_engine_info(welcome())
    names = [toolbar.emulate_combo.itemData(i) for i in range(toolbar.emulate_combo.count())]
    labels = [toolbar.emulate_combo.itemText(i) for i in range(toolbar.emulate_combo.count())]
    assert names[0] == "" and labels[0] == MODEL_IN_USE
    assert {"llama-3.1-70b", "llama-4-maverick", "qwen3-235b-a22b", "gpt-oss-120b", "deepseek-v3", "kimi-k2"} <= set(names)
    assert any("MoE" in label for label in labels)
    assert not toolbar.emulate_action.isVisible()  # "this machine" paces nothing


def test_choosing_a_profile_and_a_model_names_both_and_tells_the_window(toolbar, qtbot):
    toolbar.set_engine_info(welcome())
    with qtbot.waitSignal(toolbar.profileChanged) as profile_signal:
        assert toolbar.select_profile("h100x8")
    assert profile_signal.args == ["h100x8", "8×H100"]
    assert toolbar.emulate_action.isVisible()
    with qtbot.waitSignal(toolbar.emulateChanged) as model_signal:
        assert toolbar.select_emulated("llama-3.1-70b")
    assert model_signal.args == ["llama-3.1-70b"]
    assert toolbar.profile() == ("h100x8", "Llama 3.1 70B on 8×H100")
    toolbar.set_engine_info(welcome())  # a reconnect keeps both choices
    assert toolbar.emulated() == "llama-3.1-70b" and toolbar.profile()[0] == "h100x8"
    assert not toolbar.select_emulated("gpt-9")


@pytest.fixture
def view(qtbot):
    widget = WaferView()
    widget.resize(420, 560)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _moe_frame(trace, emu, token):
    t = emu.ttft_ms + (token - 1) * emu.per_token_ms
    for i in range(4000):
        frame = trace.frame_at(t + i * emu.step_ms / 400)
        if frame.get("experts") and frame["tokens"] == token and frame["layer"] is not None:
            return frame
    raise AssertionError("no MoE layer frame found")


def test_routed_experts_light_up_per_token_with_a_legend(view):
    emu = emulation("wse-3", "llama-4-maverick", 300)
    trace = ActivityTrace(emu)
    view.set_layout(trace.layout())
    first = _moe_frame(trace, emu, 1)
    assert is_moe_layer(emu.shape, first["experts_layer"]) and first["experts_layer"] <= first["layer"]
    assert len(first["experts"]) == 1
    view.show_frame(first)
    view.grab()
    assert view.expert_levels() == {first["experts"][0]: 1.0}
    text = " ".join(view.drawn_text)
    assert f"Experts, layer {first['experts_layer'] + 1}: 1 of 128" in text
    assert "routed" in text and "shared" in text and "idle" in text
    later = _moe_frame(trace, emu, 5)
    view.show_frame(later)
    assert view.expert_levels() == {later["experts"][0]: 1.0}
    assert trace.frame_at(later["t_ms"]) == later  # the same request lights the same experts


def test_a_frame_without_routing_lets_the_last_fade_and_dense_models_have_no_strip(view):
    emu = emulation("wse-3", "llama-4-maverick", 300)
    trace = ActivityTrace(emu)
    view.set_layout(trace.layout())
    frame = _moe_frame(trace, emu, 2)
    view.show_frame(frame)
    bare = {k: v for k, v in frame.items() if k not in ("experts", "experts_layer")}
    view.show_frame(bare)
    view.grab()
    assert set(view.expert_levels().values()) == {0.45}
    assert "Experts: 1 of 128 per token" in " ".join(view.drawn_text)
    view.set_layout(ActivityTrace(emulation("wse-3", "llama-3.1-70b", 300)).layout())
    view.grab()
    assert not view.expert_levels() and not any("Experts" in line for line in view.drawn_text)


def test_changing_hardware_clears_the_old_placement_until_the_next_edit(qtbot):
    from app.qt.view_parts import GaugeColumn

    column = GaugeColumn()
    qtbot.addWidget(column)
    column.feed_tiles({"layout": ActivityTrace(emulation("wse-3", "llama-4-maverick", 100)).layout()})
    assert column.wafer.status_text() == "waiting for a request"
    column.set_profile("Llama 3.1 70B on 8×H100", "h100x8")
    assert column.wafer.status_text() == "Llama 3.1 70B on 8×H100: the placement appears with the next edit"
    assert "Llama 3.1 70B on 8×H100" in column.profile_label.text() and column.profile_label.wordWrap()


def test_dozens_of_wafers_stay_inside_a_small_view(view):
    emu = emulation("wse-3", "kimi-k2", 100)
    trace = ActivityTrace(emu)
    view.set_layout(trace.layout())
    view.resize(330, 245)
    view.show_frame(trace.frame_at(emu.ttft_ms + 0.4 * emu.per_token_ms))
    view.grab()
    rects = [view.region_rect(r["id"]) for r in trace.layout()["regions"]]
    assert all(r is not None and r.left() >= 0 and r.right() <= view.width() for r in rects)
