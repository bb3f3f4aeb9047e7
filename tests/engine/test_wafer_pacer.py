"""The pacer: real tokens released at emulated times; lag reported when compute is slower."""

import asyncio

import pytest

from engine.wafer import Pacer, emulation

TOKENS = ["def", " add", "(a", ",", " b", "):", "\n   ", " return", " a", " +", " b", "\n"]


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps or compute is simulated."""

    def __init__(self, start_s: float = 1000.0) -> None:
        self.now_s = start_s

    def __call__(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now_s += seconds


def stream(emu, compute_ms_per_token: float):
    """Emit TOKENS through a pacer; the real model needs `compute_ms_per_token` for each."""
    clock = FakeClock()
    pacer = Pacer(emu, clock=clock, sleep=clock.sleep)
    t0 = clock()
    pacer.start(t0)

    async def run():
        emitted = []
        for n, text in enumerate(TOKENS, start=1):
            computed_at = t0 + n * compute_ms_per_token / 1000
            clock.now_s = max(clock.now_s, computed_at)  # the real token exists now
            await pacer.wait_release(n)
            emitted.append((text, (clock() - t0) * 1000))
        return emitted

    return asyncio.run(run()), pacer


def test_one_model_paced_under_two_profiles_same_tokens_different_correct_timing():
    wafer = emulation("wse-3", "llama-3.1-70b", 300)
    gpus = emulation("h100x8", "llama-3.1-70b", 300)
    fast, wafer_pacer = stream(wafer, compute_ms_per_token=0.01)
    slow, gpu_pacer = stream(gpus, compute_ms_per_token=0.01)

    assert [t for t, _ in fast] == [t for t, _ in slow] == TOKENS
    for n, (_, at_ms) in enumerate(fast):
        assert at_ms == pytest.approx(wafer.release_ms(n))
    for n, (_, at_ms) in enumerate(slow):
        assert at_ms == pytest.approx(gpus.release_ms(n))
    gap_fast = fast[-1][1] - fast[-2][1]
    gap_slow = slow[-1][1] - slow[-2][1]
    assert gap_slow / gap_fast == pytest.approx(wafer.decode_tok_s / gpus.decode_tok_s)
    assert wafer_pacer.lag_ms == 0 and gpu_pacer.lag_ms == 0


def test_compute_slower_than_the_emulation_goes_out_at_once_and_reports_lag():
    emu = emulation("wse-3", "llama-3.1-8b", 100)  # ~0.5 ms per token
    compute_ms = 5.0
    emitted, pacer = stream(emu, compute_ms_per_token=compute_ms)
    for n, (_, at_ms) in enumerate(emitted, start=1):
        assert at_ms == pytest.approx(n * compute_ms)  # released as soon as it exists
    worst = max(n * compute_ms - emu.release_ms(n - 1) for n in range(1, len(TOKENS) + 1))
    assert pacer.lag_ms == pytest.approx(worst)
    stats = pacer.stats()
    assert stats["lag_ms"] == pytest.approx(worst, abs=1e-3)
    assert stats["late_tokens"] == len(TOKENS)
    assert stats["profile"] == "wse-3" and stats["emulated_tok_s"] == pytest.approx(emu.decode_tok_s, rel=1e-3)


def test_local_profile_never_waits():
    emitted, pacer = stream(emulation("local", "tessera-edit-mini", 20), compute_ms_per_token=0.2)
    assert [ms for _, ms in emitted] == pytest.approx([0.2 * n for n in range(1, len(TOKENS) + 1)])
    assert pacer.lag_ms == 0 and pacer.stats()["paced"] is False and pacer.stats()["emulated_tok_s"] is None


def test_batched_emission_waits_for_its_last_token():
    emu = emulation("h100x8", "llama-3.1-8b", 100)
    clock = FakeClock()
    pacer = Pacer(emu, clock=clock, sleep=clock.sleep)
    pacer.start()
    asyncio.run(pacer.wait_release(4))  # one event carrying tokens 1..4
    assert (clock() - 1000.0) * 1000 == pytest.approx(emu.release_ms(3))


def test_misuse_gives_clear_errors():
    pacer = Pacer(emulation("wse-3", "llama-3.1-8b", 100))
    with pytest.raises(RuntimeError, match="start"):
        asyncio.run(pacer.wait_release(1))
    pacer.start()
    with pytest.raises(ValueError, match="positive"):
        asyncio.run(pacer.wait_release(0))


def test_real_clock_paces_the_bundled_model_on_a_wafer():
    emu = emulation("wse-3", "tessera-edit-mini", 8)  # well under a millisecond per token
    pacer = Pacer(emu)

    async def run():
        pacer.start()
        for n in range(1, 6):
            await pacer.wait_release(n)
        return pacer.emulated_now_ms()

    elapsed_ms = asyncio.run(run())
    assert elapsed_ms >= emu.release_ms(4)
    assert pacer.stats()["released_tokens"] == 5


def test_a_timer_that_fires_early_never_releases_a_token_early():
    # uvloop's timers run on a millisecond clock and may wake a sleep up to ~1 ms early.
    emu = emulation("h100x8", "llama-3.1-8b", 100)
    clock = FakeClock()

    async def early_sleep(seconds: float) -> None:  # 1 ms short; a wake-up itself takes 0.05 ms
        clock.now_s += max(seconds - 0.001, 0.0) + 0.00005

    pacer = Pacer(emu, clock=clock, sleep=early_sleep)
    pacer.start()
    for n in range(1, 6):
        asyncio.run(pacer.wait_release(n))
        assert (clock() - 1000.0) * 1000 >= emu.release_ms(n - 1) - 1e-9
    assert pacer.lag_ms == 0.0


def test_each_further_run_prefills_its_own_prompt_after_the_tokens_before_it():
    # A long target's windows: 3 tokens from a 400-token prompt, then 2 from a 50-token one.
    first, second = emulation("h100x8", "llama-3.1-70b", 400), emulation("h100x8", "llama-3.1-70b", 50)
    clock = FakeClock()
    pacer = Pacer(first, clock=clock, sleep=clock.sleep)
    pacer.start()
    released = []
    for n in range(1, 4):
        asyncio.run(pacer.wait_release(n))
        released.append((clock() - 1000.0) * 1000)
    pacer.next_run(second, 3)
    for n in range(4, 6):
        asyncio.run(pacer.wait_release(n))
        released.append((clock() - 1000.0) * 1000)
    assert released[:3] == pytest.approx([first.release_ms(i) for i in range(3)])
    end_of_first = first.release_ms(2)
    assert released[3:] == pytest.approx([end_of_first + second.release_ms(i) for i in range(2)])
    assert released[3] - released[2] == pytest.approx(second.ttft_ms)  # the second prompt's prefill, not a step
    assert pacer.stats()["emulated_ttft_ms"] == pytest.approx(first.ttft_ms, abs=1e-3)


def test_a_first_run_after_windows_that_never_ran_starts_at_arrival():
    later = emulation("wse-3", "llama-3.1-70b", 120)
    pacer = Pacer(emulation("wse-3", "llama-3.1-70b", 900), clock=FakeClock(), sleep=None)
    pacer.next_run(later, 0)  # the windows before it passed through unchanged: no tokens, no time
    assert pacer.emulation is later and pacer.stats()["emulated_ttft_ms"] == pytest.approx(later.ttft_ms, abs=1e-3)
    with pytest.raises(ValueError, match="non-negative"):
        pacer.next_run(later, -1)
