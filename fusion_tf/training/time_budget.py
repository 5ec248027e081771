"""How many epochs fit a training time budget, planned from the pace of the epochs so far."""

import math

# Share of the budget a re-plan keeps spare before it adds an epoch (2%: 66 s of 55 minutes).
# The mean pace moves by about a second an epoch on an idle host, which moves a plan's end by
# some 15 s; without a margin a plan ending within seconds of the budget flipped 18, 19, 18.
ADD_MARGIN = 0.02


def epochs_within_budget(
    budget_seconds: float,
    elapsed_seconds: float,
    seconds_per_epoch: float,
    epochs_done: int,
    max_epochs: int,
    planned_epochs: int | None = None,
) -> int:
    """The epochs a run trains in all: those done, and as many more as end within the budget.

    Never fewer than `epochs_done` (the run cannot give back what it trained) nor more than
    `max_epochs` (the configured count stays the upper bound). A re-plan (`planned_epochs`
    given) drops epochs as soon as they would end past the budget, but adds one only where it
    ends with `ADD_MARGIN` of the budget spare: a pace wavering at the budget's edge would
    otherwise add and remove the same epoch, each time moving the learning-rate decay.

    Args:
        budget_seconds: float. The training's whole budget, from its start.
        elapsed_seconds: float. Spent so far.
        seconds_per_epoch: float. One more epoch's expected cost, validation included.
        epochs_done: int. Epochs already trained.
        max_epochs: int. The configured epoch count.
        planned_epochs: int or None. The plan in force, None for the first plan.
    """
    if seconds_per_epoch <= 0:
        raise ValueError(f"seconds_per_epoch={seconds_per_epoch} must be positive")

    def fitting(budget: float) -> int:
        more = math.floor(max(budget - elapsed_seconds, 0.0) / seconds_per_epoch)
        return max(epochs_done, min(max_epochs, epochs_done + more))

    epochs = fitting(budget_seconds)
    if planned_epochs is not None and epochs > planned_epochs:
        epochs = max(planned_epochs, fitting(budget_seconds * (1 - ADD_MARGIN)))
    return epochs


def seconds_per_epoch(
    steps_seconds: float,
    timed_steps: int,
    steps_per_epoch: int,
    epoch_end_seconds: float,
    epoch_ends: int,
) -> float:
    """One more epoch's expected cost: its steps at their mean pace, and a mean epoch end.

    Args:
        steps_seconds: float. Time the timed steps took.
        timed_steps: int. Steps timed, at least one.
        steps_per_epoch: int. Steps an epoch.
        epoch_end_seconds: float. Time the epoch ends took (validation, checkpoints).
        epoch_ends: int. Epoch ends timed, at least one.
    """
    if timed_steps < 1 or epoch_ends < 1:
        raise ValueError(
            f"timed_steps={timed_steps}, epoch_ends={epoch_ends}: the pace needs a step and an epoch end"
        )
    return steps_seconds / timed_steps * steps_per_epoch + epoch_end_seconds / epoch_ends
