"""Speculative decoding with the drafter's own placement and cost; TTFT in its four parts."""

import pytest

from engine.wafer import ServingOptions, Speculation, emulation
from engine.wafer.calibration import HTTP_EXTRA_ROUND_TRIPS, SESSION_SETUP_MS
from engine.wafer.serving import DEPLOYMENTS


def test_a_draft_model_is_placed_on_its_own_wafers_and_its_steps_are_paid():
    eagle = emulation("wse-3", "llama-3.1-70b", 100, speculation=Speculation())
    draft = emulation("wse-3", "llama-3.1-70b", 100, speculation=Speculation("draft", "llama-3.1-8b"))
    assert draft.draft_placement.wafers == 1 and draft.summary()["draft_wafers"] == 1
    assert draft.breakdown_us["draft_us"] > 3 * eagle.breakdown_us["draft_us"]  # an 8B model, not one layer
    assert draft.decode_tok_s_speculative < eagle.decode_tok_s_speculative
    assert draft.decode_tok_s == eagle.decode_tok_s  # the plain figure does not depend on the drafter


def test_the_speculative_step_is_k_drafts_plus_one_verify_of_k_plus_1_tokens():
    spec = Speculation(draft_tokens=5, acceptance=0.6)
    emu = emulation("h200x8", "llama-3.1-70b", 100, speculation=spec)
    b = emu.breakdown_us
    assert emu.spec_step_ms * 1000 == pytest.approx(b["draft_us"] + b["verify_us"] + b["host_us"])
    assert emu.tokens_per_step == pytest.approx((1 - 0.6**6) / 0.4)
    assert emu.decode_tok_s_speculative == pytest.approx(1000 * emu.tokens_per_step / emu.spec_step_ms)


def test_a_draft_on_gpus_shares_them_and_useless_speculation_slows_down():
    bad = emulation("h100x8", "llama-3.1-70b", 100, speculation=Speculation("draft", "llama-3.1-8b", 4, 0.05))
    assert bad.draft_placement.gpus == 8
    assert bad.decode_tok_s_speculative < bad.decode_tok_s


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="draft"), "draft model"), (dict(draft_tokens=0), "draft tokens"), (dict(acceptance=1.0), r"\[0, 1\)"),
    (dict(method="medusa"), "method"),
])
def test_bad_speculation_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Speculation(**kwargs)


def test_ttft_is_network_plus_setup_plus_prefill_plus_first_step():
    serving = ServingOptions(transport="http", prewarm=False, deployment="internet")
    emu = emulation("wse-3", "llama-3.1-70b", 1000, serving=serving)
    parts = emu.ttft_parts
    assert set(parts) == {"network_ms", "queue_setup_ms", "prefill_ms", "first_step_ms"}
    assert emu.ttft_ms == pytest.approx(sum(parts.values()))
    assert parts["network_ms"] == pytest.approx((1 + HTTP_EXTRA_ROUND_TRIPS) * DEPLOYMENTS["internet"])
    assert parts["queue_setup_ms"] == SESSION_SETUP_MS
    assert emu.summary()["ttft_parts_ms"]["network"] == pytest.approx(parts["network_ms"])


def test_an_explicit_round_trip_overrides_the_deployment_default():
    emu = emulation("wse-3", "llama-3.1-8b", 100, serving=ServingOptions(deployment="internet", network_rtt_ms=5))
    assert emu.ttft_parts["network_ms"] == 5
    with pytest.raises(ValueError, match="deployment"):
        ServingOptions(deployment="moon")


def test_overlapped_host_work_hides_behind_a_long_step():
    serial = emulation("h100x8", "llama-3.1-70b", 100)
    overlapped = emulation("h100x8", "llama-3.1-70b", 100, serving=ServingOptions(serving_stack="overlapped"))
    assert overlapped.decode_tok_s > 1.3 * serial.decode_tok_s


def test_json_reports_the_issue_fields():
    s = emulation("wse-3", "qwen3-235b-a22b", 100, speculation=Speculation()).summary()
    for key in ("total_params_b", "active_params_b", "wafers", "decode_tok_s", "decode_tok_s_speculative", "ttft_ms",
                "ttft_parts_ms"):
        assert s[key] is not None, key
    assert s["total_params_b"] == pytest.approx(235, rel=0.02) and s["experts"]["tiles_per_expert"] > 0
