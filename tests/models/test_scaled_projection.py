"""Tests for ScaledProjection, the residual branch's projection with the block's scale folded in."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.models.scaled_projection import ScaledProjection


def _pair(scale: float):
    """A ScaledProjection and a plain Conv2D holding the same weights."""
    scaled = ScaledProjection(scale, filters=5, kernel_size=1)
    plain = keras.layers.Conv2D(filters=5, kernel_size=1)
    inputs = np.random.default_rng(0).normal(size=(2, 3, 4, 6)).astype("float32")
    scaled.build(inputs.shape)
    plain.build(inputs.shape)
    rng = np.random.default_rng(1)
    for variable in scaled.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    plain.set_weights(scaled.get_weights())
    return scaled, plain, tf.constant(inputs)


def test_output_is_the_scaled_convolution():
    scaled, plain, inputs = _pair(0.17)
    np.testing.assert_allclose(scaled(inputs), 0.17 * plain(inputs), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_gradients_are_those_of_the_scaled_convolution(scale):
    # Folding the scale into the kernel must leave the variables' gradients and the input's as
    # they were with the multiply after the convolution, or training would change.
    scaled, plain, inputs = _pair(scale)
    upstream = tf.constant(np.random.default_rng(2).normal(size=(2, 3, 4, 5)).astype("float32"))

    def gradients(layer, outputs_of):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(upstream * outputs_of(layer))
        return tape.gradient(loss, [inputs, *layer.trainable_variables])

    folded = gradients(scaled, lambda layer: layer(inputs))
    after = gradients(plain, lambda layer: scale * layer(inputs))
    assert len(folded) == 3
    for got, expected in zip(folded, after, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_has_a_conv2d_s_variables():
    scaled, plain, _ = _pair(0.2)
    assert [variable.path.rsplit("/", 1)[1] for variable in scaled.weights] == ["kernel", "bias"]
    assert [tuple(variable.shape) for variable in scaled.weights] == [
        tuple(variable.shape) for variable in plain.weights
    ]


def test_bfloat16_policy_computes_in_bfloat16_and_keeps_float32_variables():
    layer = ScaledProjection(0.5, filters=2, kernel_size=1, dtype="mixed_bfloat16")
    outputs = layer(keras.ops.ones((1, 2, 2, 3)))
    assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"
    assert {keras.backend.standardize_dtype(v.dtype) for v in layer.weights} == {"float32"}


def test_config_round_trip():
    layer = ScaledProjection(0.2, filters=8, kernel_size=1, name="Block8__Conv2d_1x1")
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(restored, ScaledProjection)
    assert (restored.scale, restored.filters, restored.name) == (0.2, 8, "Block8__Conv2d_1x1")
