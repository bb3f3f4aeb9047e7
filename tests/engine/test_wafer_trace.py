"""Activity frames for the wafer view: layout on a downsampled grid, the token wave, throttling."""

import json

import pytest

from engine.wafer import ActivityTrace, emulation


@pytest.mark.parametrize("profile, model", [("wse-3", "llama-3.1-70b"), ("wse-2", "llama-3.1-8b"), ("h100x8", "llama-3.1-405b")])
def test_layout_is_json_and_regions_fit_the_grid(profile, model):
    layout = ActivityTrace(emulation(profile, model, 200)).layout()
    json.dumps(layout)
    cols, rows = layout["grid"]["cols"], layout["grid"]["rows"]
    assert max(cols, rows) <= 48
    assert layout["wafers"] >= 1 and layout["regions"]
    for r in layout["regions"]:
        assert 0 <= r["x"] and r["x"] + r["w"] <= cols and 0 <= r["y"] and r["y"] + r["h"] <= rows
        assert r["w"] >= 1 and r["h"] >= 1 and 0 <= r["wafer"] < layout["wafers"]


def test_prefill_lights_every_layer_then_one_token_walks_the_serpentine():
    emu = emulation("wse-3", "llama-3.1-8b", 200)
    trace = ActivityTrace(emu)
    layer_regions = [r["id"] for r in trace.layout()["regions"] if r["kind"] == "layer"]
    prefill = trace.frame_at(emu.ttft_ms / 2)
    assert prefill["phase"] == "prefill" and sorted(prefill["active"]) == sorted(layer_regions)

    seen = []
    t = emu.ttft_ms
    for kind, layer, dur_us in emu.step_phases():
        frame = trace.frame_at(t + dur_us / 2000)
        if kind == "layer":
            assert frame["layer"] == layer
            assert frame["active"][0] == layer_regions[layer] and frame["levels"][0] == 1.0
            assert frame["levels"] == sorted(frame["levels"], reverse=True)
            seen.append(frame["active"][0])
        t += dur_us / 1000
    assert seen == layer_regions
    assert trace.frame_at(emu.release_ms(9) + 1e-6)["tokens"] == 10


def test_wafer_wide_lights_the_whole_square_with_the_layer_number():
    emu = emulation("wse-2", "llama-3.1-8b", 100, strategy="wafer-wide")
    trace = ActivityTrace(emu)
    square = next(r["id"] for r in trace.layout()["regions"] if r["kind"] == "layers")
    kind, layer, dur = emu.step_phases()[5]
    start = emu.ttft_ms + sum(d for _, _, d in emu.step_phases()[:5]) / 1000
    frame = trace.frame_at(start + dur / 2000)
    assert kind == "layer" and frame["layer"] == layer and frame["active"] == [square]


def test_gpu_node_lights_all_its_gpus_for_every_layer():
    emu = emulation("h100x8", "llama-3.1-8b", 100)
    frame = ActivityTrace(emu).frame_at(emu.ttft_ms + 0.01)
    assert frame["layer"] is not None and sorted(frame["active"]) == list(range(8))


def test_frames_are_throttled_to_30_per_emulated_second():
    emu = emulation("wse-3", "llama-3.1-8b", 100)
    trace = ActivityTrace(emu, max_fps=30)
    frames = [f for t in range(0, 1000) if (f := trace.next_frame(float(t))) is not None]
    assert 29 <= len(frames) <= 31
    assert all(b["t_ms"] - a["t_ms"] >= 1000 / 30 for a, b in zip(frames, frames[1:]))


def test_local_profile_has_no_regions_and_no_frames():
    trace = ActivityTrace(emulation("local", "tessera-edit-mini", 10))
    assert trace.layout()["regions"] == [] and trace.next_frame(5.0) is None
    assert trace.frame_at(5.0)["phase"] == "idle"


def test_successive_decode_frames_show_the_token_further_along_its_path():
    emu = emulation("wse-3", "llama-3.1-70b", 100)
    trace = ActivityTrace(emu)
    frames, t = [], emu.ttft_ms
    while len(frames) < 12:
        if (f := trace.next_frame(t)) is not None and f["phase"] != "prefill":
            frames.append(f)
        t += emu.per_token_ms  # polled once per released token, as the session loop does
    step_us = emu.step_ms * 1000
    offsets = [((f["t_ms"] - emu.ttft_ms) * 1000) % step_us for f in frames]
    advances = [(b - a) % step_us for a, b in zip(offsets, offsets[1:])]
    assert all(0 < a < step_us / 10 for a in advances)  # forward, a small slice of a step each time
    layers = [f["layer"] for f in frames if f["layer"] is not None]
    assert len(set(layers)) >= 5
