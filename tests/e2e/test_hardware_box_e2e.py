"""The Hardware box on a real engine: the chosen profile paces the stream as the chosen model would run."""

from __future__ import annotations

from tests.e2e.test_app_e2e import load, send, wait_done


def _capture(window):
    stats, frames = [], []
    gauges, wafer = window.gauges, window.gauges.wafer
    done, show_frame = gauges.done, wafer.show_frame
    gauges.done = lambda s: (stats.append(s), done(s))
    wafer.show_frame = lambda f: (frames.append(f), show_frame(f))
    return stats, frames


def _edit(qtbot, window, profile: str, model: str, stats: list):
    assert window.toolbar.select_profile(profile) and window.toolbar.select_emulated(model)
    assert window.controller.settings.profile == profile and window.controller.settings.emulate == model
    previous = window.controller.run
    window.controller.configure(max_tokens=30)
    send(qtbot, window, "add type hints")
    wait_done(qtbot, window, previous)
    return stats[-1]


def test_llama_70b_on_8_h100s_is_paced_an_order_slower_than_on_a_wafer(qtbot, window):
    load(window)
    stats, _ = _capture(window)
    gpu = _edit(qtbot, window, "h100x8", "llama-3.1-70b", stats)
    assert gpu.emulated_model == "llama-3.1-70b" and gpu.paced
    assert 60 <= gpu.emulated_tok_s <= 90  # 150 tokens: ~2 s
    assert "Llama 3.1 70B on 8×H100" in window.gauges.profile_label.text()
    wafer = _edit(qtbot, window, "wse-3", "llama-3.1-70b", stats)
    assert wafer.emulated_tok_s > 700  # 150 tokens: ~0.2 s
    assert wafer.released_tokens == window.controller.run.tokens


def test_an_moe_model_lights_its_routed_experts_in_the_wafer_view(qtbot, window):
    load(window)
    stats, frames = _capture(window)
    result = _edit(qtbot, window, "wse-3", "llama-4-maverick", stats)
    assert result.emulated_model == "llama-4-maverick"
    assert window.gauges.wafer._layout["experts"]["count"] == 128  # noqa: SLF001 (the layout the engine sent)
    routed = [f["experts"] for f in frames if f.get("phase") == "decode" and f.get("experts")]
    assert routed and all(len(e) == 1 for e in routed)


def test_the_model_in_use_is_the_default_pairing(qtbot, window):
    assert window.toolbar.emulated() == "" and window.controller.settings.emulate is None
    assert window.toolbar.select_profile("wse-3")
    assert window.controller.settings.emulate is None
