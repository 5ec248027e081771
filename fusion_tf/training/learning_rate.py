"""Learning-rate schedules: the paper's constant rate, or linear warm-up then cosine decay."""

import keras

SCHEDULES = ("constant", "cosine")


def learning_rate_schedule(
    schedule: str, learning_rate: float, total_steps: int, warmup_steps: int = 0
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The optimizer's learning rate: a float for "constant", a step schedule for "cosine".

    "cosine" rises linearly from 0 to `learning_rate` over `warmup_steps`, then follows a half
    cosine down to 0 at `total_steps` (Loshchilov and Hutter 2017; the CLIP recipe).
    """
    if schedule == "constant":
        return learning_rate
    if schedule != "cosine":
        raise ValueError(f"learning_rate_schedule={schedule!r}: use one of {SCHEDULES}")
    warmup_steps = min(max(warmup_steps, 0), total_steps - 1)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else learning_rate,
        decay_steps=max(total_steps - warmup_steps, 1),
        warmup_target=learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )
