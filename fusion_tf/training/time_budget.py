"""How many epochs fit a training time budget, planned from the pace of the first epoch."""

import math


def epochs_within_budget(
    budget_seconds: float,
    elapsed_seconds: float,
    seconds_per_epoch: float,
    epochs_done: int,
    max_epochs: int,
) -> int:
    """The epochs a run trains in all: those done, and as many more as end within the budget.

    Never fewer than `epochs_done` (the run cannot give back what it trained) nor more than
    `max_epochs` (the configured count stays the upper bound).

    Args:
        budget_seconds: float. The training's whole budget, from its start.
        elapsed_seconds: float. Spent so far.
        seconds_per_epoch: float. One more epoch's expected cost, validation included.
        epochs_done: int. Epochs already trained.
        max_epochs: int. The configured epoch count.
    """
    if seconds_per_epoch <= 0:
        raise ValueError(f"seconds_per_epoch={seconds_per_epoch} must be positive")
    more = math.floor(max(budget_seconds - elapsed_seconds, 0.0) / seconds_per_epoch)
    return max(epochs_done, min(max_epochs, epochs_done + more))
