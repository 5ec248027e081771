"""The learning-rate schedules: the paper's constant rate, warm-up then cosine decay."""

import pytest

from fusion_tf.training.learning_rate import learning_rate_schedule


def test_constant_is_the_papers_plain_rate():
    assert learning_rate_schedule("constant", 1e-3, total_steps=100) == 1e-3


def test_cosine_warms_up_linearly_then_decays_to_zero():
    schedule = learning_rate_schedule("cosine", 1e-3, total_steps=110, warmup_steps=10)
    values = {step: float(schedule(step)) for step in (0, 5, 10, 60, 110)}
    assert values[0] == 0.0
    assert values[5] == pytest.approx(0.5e-3)
    assert values[10] == pytest.approx(1e-3)
    assert values[60] == pytest.approx(0.5e-3, rel=1e-5)  # half way down the half cosine
    assert values[110] == pytest.approx(0.0, abs=1e-9)


def test_cosine_without_warm_up_starts_at_the_rate():
    schedule = learning_rate_schedule("cosine", 2e-3, total_steps=50)
    assert float(schedule(0)) == pytest.approx(2e-3)
    assert float(schedule(25)) == pytest.approx(1e-3, rel=1e-5)


def test_an_unknown_schedule_names_the_choices():
    with pytest.raises(ValueError, match="constant.*cosine"):
        learning_rate_schedule("linear", 1e-3, total_steps=10)
