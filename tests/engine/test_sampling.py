import numpy as np
import pytest

from engine.decode.sampling import SamplingParams, sample


def test_greedy_picks_the_argmax():
    logits = np.array([0.1, 3.0, -1.0, 2.9], dtype=np.float32)
    assert sample(logits, SamplingParams(), np.random.default_rng(0)) == 1


def test_same_seed_same_samples_and_temperature_spreads_choices():
    logits = np.linspace(0, 1, 50).astype(np.float32)
    params = SamplingParams(temperature=1.0, seed=5)
    a = [sample(logits, params, g) for g in [np.random.default_rng(5)] for _ in range(40)]
    b = [sample(logits, params, g) for g in [np.random.default_rng(5)] for _ in range(40)]
    assert a == b
    assert len(set(a)) > 10


def test_small_top_p_keeps_only_the_head_of_the_distribution():
    logits = np.array([5.0, 4.0, 0.0, -1.0], dtype=np.float32)
    rng = np.random.default_rng(1)
    picks = {sample(logits, SamplingParams(temperature=1.0, top_p=0.5), rng) for _ in range(200)}
    assert picks == {0}
    picks = {sample(logits, SamplingParams(temperature=1.0, top_p=0.99), rng) for _ in range(400)}
    assert picks >= {0, 1}


@pytest.mark.parametrize("kwargs", [{"temperature": -1}, {"top_p": 0}, {"top_p": 1.5}])
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        SamplingParams(**kwargs)
