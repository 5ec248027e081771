"""The learning-rate schedules: the paper's constant rate, warm-up then cosine decay."""

import pytest
import tensorflow as tf

from fusion_tf.training.learning_rate import end_schedule_at, learning_rate_schedule


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


@pytest.mark.parametrize(("total_steps", "warmup_steps"), [(60, 10), (200, 10), (5, 10)])
def test_a_moved_end_gives_the_schedule_of_that_length(total_steps, warmup_steps):
    moved = learning_rate_schedule("cosine", 1e-3, total_steps=110, warmup_steps=10)
    end_schedule_at(moved, total_steps, warmup_steps)
    fresh = learning_rate_schedule("cosine", 1e-3, total_steps, warmup_steps)
    steps = range(0, total_steps + 2)
    assert [float(moved(step)) for step in steps] == pytest.approx(
        [float(fresh(step)) for step in steps], abs=1e-9
    )


def test_a_traced_step_follows_the_moved_end_without_a_retrace():
    schedule = learning_rate_schedule("cosine", 1e-3, total_steps=110, warmup_steps=10)
    rate_at = tf.function(schedule)
    assert float(rate_at(tf.constant(60))) == pytest.approx(0.5e-3, rel=1e-5)
    end_schedule_at(schedule, total_steps=60, warmup_steps=10)
    assert float(rate_at(tf.constant(35))) == pytest.approx(0.5e-3, rel=1e-5)  # half way down
    assert float(rate_at(tf.constant(60))) == pytest.approx(0.0, abs=1e-9)
    assert rate_at.experimental_get_tracing_count() == 1


def test_an_unknown_schedule_names_the_choices():
    with pytest.raises(ValueError, match="constant.*cosine"):
        learning_rate_schedule("linear", 1e-3, total_steps=10)
