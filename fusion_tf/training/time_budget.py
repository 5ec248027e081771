"""How many steps fit a training time budget, planned from the pace of the run so far."""

import dataclasses

# Width of the band a plan may end in without a re-plan: a plan ending past the budget drops
# steps at once, one ending more than this share before it (66 s of 55 minutes) adds some. A new
# plan aims at the band's middle. The mean pace moves by about a second an epoch on an idle host,
# which moves a plan's end by some 15 s; without the band every epoch's end would move the
# learning-rate decay by a few steps.
MARGIN = 0.02


@dataclasses.dataclass(frozen=True)
class Pace:
    """What a step and an epoch's end (validation, checkpoints) have cost so far, at their means.

    Attributes:
        seconds_per_step: float. One training step.
        seconds_per_epoch_end: float. One epoch's end, a partial last epoch's too.
        steps_per_epoch: int. Steps a whole epoch.
    """

    seconds_per_step: float
    seconds_per_epoch_end: float
    steps_per_epoch: int

    def __post_init__(self):
        if self.seconds_per_step <= 0 or self.seconds_per_epoch_end < 0:
            raise ValueError(
                f"seconds_per_step={self.seconds_per_step} must be positive and "
                f"seconds_per_epoch_end={self.seconds_per_epoch_end} not negative"
            )
        if self.steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch={self.steps_per_epoch} must be at least 1")

    @classmethod
    def measured(
        cls,
        steps_seconds: float,
        timed_steps: int,
        epoch_ends_seconds: float,
        epoch_ends: int,
        steps_per_epoch: int,
    ) -> "Pace":
        """The pace of `timed_steps` steps that took `steps_seconds` and of `epoch_ends` ends."""
        if timed_steps < 1 or epoch_ends < 1:
            raise ValueError(
                f"timed_steps={timed_steps}, epoch_ends={epoch_ends}: the pace needs a step and "
                "an epoch end"
            )
        return cls(steps_seconds / timed_steps, epoch_ends_seconds / epoch_ends, steps_per_epoch)

    @property
    def seconds_per_epoch(self) -> float:
        return self.steps_per_epoch * self.seconds_per_step + self.seconds_per_epoch_end

    def seconds_between(self, steps_done: int, total_steps: int) -> float:
        """From the end of step `steps_done` to that of step `total_steps`, epoch ends included.

        An epoch ends at every multiple of the epoch's steps and at `total_steps` itself, where
        a partial last epoch is validated and saved as a whole one is.
        """
        if total_steps <= steps_done:
            return 0.0
        whole = total_steps // self.steps_per_epoch - steps_done // self.steps_per_epoch
        ends = whole + (total_steps % self.steps_per_epoch != 0)
        return (
            total_steps - steps_done
        ) * self.seconds_per_step + ends * self.seconds_per_epoch_end


def steps_within_budget(
    budget_seconds: float,
    elapsed_seconds: float,
    pace: Pace,
    steps_done: int,
    max_steps: int,
    planned_steps: int | None = None,
) -> int:
    """The steps a run trains in all: those done, and as many more as end within the budget.

    The last epoch may be partial, so the budget is spent rather than left idle for want of a
    whole epoch. Never fewer than `steps_done` (the run cannot give back what it trained) nor
    more than `max_steps` (the configured length stays the upper bound). A plan in force
    (`planned_steps`) is kept while it ends within the budget and no more than `MARGIN` of it
    before; otherwise the new plan ends as near as it can to `MARGIN / 2` before the budget.

    Args:
        budget_seconds: float. The training's whole budget, from its start.
        elapsed_seconds: float. Spent so far.
        pace: Pace. The run's pace so far.
        steps_done: int. Steps already trained.
        max_steps: int. The configured length in steps.
        planned_steps: int or None. The plan in force, None for the first plan.
    """

    def end(total_steps: int) -> float:
        return elapsed_seconds + pace.seconds_between(steps_done, total_steps)

    if planned_steps is not None:
        planned_end = end(planned_steps)
        if planned_end <= budget_seconds and (
            planned_end >= budget_seconds * (1 - MARGIN) or planned_steps >= max_steps
        ):
            return planned_steps
    target = budget_seconds * (1 - MARGIN / 2)
    # The last total that ends by the target: end() never falls as steps are added.
    low, high = steps_done, max(steps_done, max_steps)
    while low < high:
        middle = (low + high + 1) // 2
        if end(middle) <= target:
            low = middle
        else:
            high = middle - 1
    return low
