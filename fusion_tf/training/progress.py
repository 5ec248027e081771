"""How far a training run is: elapsed time, steps a second and an estimate of the time left."""

import time
from collections.abc import Callable


def format_duration(seconds: float) -> str:
    """Seconds as 45s, 12m05s or 3h07m: short enough for a log line, exact enough for a run."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Times the steps this process runs, from `start_step` (where a resumed run begins).

    The rate is the average over everything since the start, validation and checkpoints included,
    so the estimate of the time left counts them too (they recur every epoch).
    """

    def __init__(
        self, start_step: int, total_steps: int, clock: Callable[[], float] = time.monotonic
    ):
        self.start_step = start_step
        self.total_steps = total_steps
        self._clock = clock
        self._start_time = clock()

    def describe(self, step: int) -> str:
        """E.g. "elapsed 12m05s, 0.55 steps/s, 1h10m left"."""
        elapsed = self._clock() - self._start_time
        done = step - self.start_step
        if done <= 0 or elapsed <= 0:
            return f"elapsed {format_duration(elapsed)}"
        rate = done / elapsed
        left = (self.total_steps - step) / rate
        return (
            f"elapsed {format_duration(elapsed)}, {rate:.2f} steps/s, {format_duration(left)} left"
        )
