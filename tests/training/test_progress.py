"""The training progress line: durations, the rate over the steps run here, the time left."""

import pytest

from fusion_tf.training.progress import Progress, format_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (44.6, "45s"), (60, "1m00s"), (725, "12m05s"), (3600, "1h00m"), (11220, "3h07m")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_the_rate_counts_only_the_steps_this_process_ran_and_estimates_the_rest():
    now = [100.0]
    progress = Progress(start_step=500, total_steps=2500, clock=lambda: now[0])
    assert progress.describe(500) == "elapsed 0s"  # no step yet: no rate to extrapolate
    now[0] += 200.0  # 100 steps of a resumed run in 200 s: 0.5 steps/s, 1900 steps left
    assert progress.describe(600) == "elapsed 3m20s, 0.50 steps/s, 1h03m left"
    now[0] += 3800.0
    assert progress.describe(2500) == "elapsed 1h06m, 0.50 steps/s, 0s left"
