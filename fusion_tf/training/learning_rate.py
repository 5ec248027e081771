"""Learning-rate schedules: the paper's constant rate, or linear warm-up then cosine decay."""

import keras
import tensorflow as tf

SCHEDULES = ("constant", "cosine")


def _cosine_lengths(total_steps: int, warmup_steps: int) -> tuple[int, int]:
    """(warm-up steps, decay steps) of a cosine schedule that ends at `total_steps`."""
    warmup_steps = min(max(warmup_steps, 0), total_steps - 1)
    return warmup_steps, max(total_steps - warmup_steps, 1)


def learning_rate_schedule(
    schedule: str, learning_rate: float, total_steps: int, warmup_steps: int = 0
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The optimizer's learning rate: a float for "constant", a step schedule for "cosine".

    "cosine" rises linearly from 0 to `learning_rate` over `warmup_steps`, then follows a half
    cosine down to 0 at `total_steps` (Loshchilov and Hutter 2017; the CLIP recipe). Its lengths
    are variables, so that `end_schedule_at` can move its end without retracing the train step
    that reads it (a time budget's re-plan).
    """
    if schedule == "constant":
        return learning_rate
    if schedule != "cosine":
        raise ValueError(f"learning_rate_schedule={schedule!r}: use one of {SCHEDULES}")
    warmup, decay = _cosine_lengths(total_steps, warmup_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else learning_rate,
        decay_steps=tf.Variable(decay, trainable=False, dtype=tf.int64, name="decay_steps"),
        warmup_target=learning_rate if warmup else None,
        warmup_steps=tf.Variable(warmup, trainable=False, dtype=tf.int64, name="warmup_steps"),
    )


def end_schedule_at(
    schedule: keras.optimizers.schedules.CosineDecay, total_steps: int, warmup_steps: int
) -> None:
    """Moves a "cosine" schedule's end to `total_steps`, in place; `warmup_steps` as built."""
    warmup, decay = _cosine_lengths(total_steps, warmup_steps)
    schedule.warmup_steps.assign(warmup)
    schedule.decay_steps.assign(decay)
