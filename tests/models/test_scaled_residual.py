"""Tests for ScaledResidual, the residual merge of the Inception-ResNet blocks."""

import keras
import numpy as np

from fusion_tf.models.scaled_residual import ScaledResidual


def test_adds_scaled_residual():
    rng = np.random.default_rng(0)
    shortcut, residual = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    output = ScaledResidual(0.17)([shortcut, residual])
    np.testing.assert_allclose(output, shortcut + 0.17 * residual, rtol=1e-6)


def test_keeps_half_precision_inputs_in_half_precision():
    shortcut = keras.ops.ones((2, 4), dtype="float16")
    layer = ScaledResidual(0.5, dtype="mixed_float16")
    output = layer([shortcut, shortcut])
    assert keras.backend.standardize_dtype(output.dtype) == "float16"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(output), 1.5)


def test_config_round_trip():
    layer = ScaledResidual(0.2, name="Block8__ScaledResidual")
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(restored, ScaledResidual)
    assert (restored.scale, restored.name) == (0.2, "Block8__ScaledResidual")
