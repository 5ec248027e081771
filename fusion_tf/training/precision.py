"""Mixed precision for the layers of one model, without leaving a process-wide policy behind."""

import contextlib

import keras

MIXED_PRECISION = ("none", "float16", "bfloat16")


@contextlib.contextmanager
def dtype_policy(mixed_precision: str):
    """Keras layers created inside compute in `mixed_precision` ("none": float32).

    A Keras layer takes the global dtype policy when it is constructed and keeps it, so setting
    the policy for the construction alone is enough; the earlier policy is restored on exit, so a
    later model in the same process gets what it asks for, not what an earlier one set.
    """
    if mixed_precision not in MIXED_PRECISION:
        raise ValueError(f"mixed_precision={mixed_precision!r}: use one of {MIXED_PRECISION}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(
        "float32" if mixed_precision == "none" else f"mixed_{mixed_precision}"
    )
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
