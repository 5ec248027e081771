"""The fused batch norm is Keras's batch norm: outputs, gradients, moving statistics, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.models.fused_batch_norm import FusedBatchNormalization


def _pair(shape, **settings):
    keras_layer = keras.layers.BatchNormalization(**settings)
    fused_layer = FusedBatchNormalization(**settings)
    for layer in (keras_layer, fused_layer):
        layer.build(shape)
    for source, target in zip(keras_layer.weights, fused_layer.weights, strict=True):
        value = np.random.default_rng(len(source.path)).uniform(0.5, 1.5, source.shape)
        source.assign(value)
        target.assign(value)
    return keras_layer, fused_layer


def _run(layer, inputs, weights, steps=3):
    """Training steps (moving statistics move), then the gradients and an inference call."""
    for _ in range(steps):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = layer(inputs, training=True)
            target = tf.reduce_sum(tf.cast(outputs, tf.float32) * weights)
    gradients = tape.gradient(target, [inputs, *layer.trainable_weights])
    statistics = [layer.moving_mean.numpy(), layer.moving_variance.numpy()]
    return outputs, gradients, statistics, layer(inputs, training=False)


@pytest.mark.parametrize(
    "shape, settings",
    [
        ((4, 2, 2, 16), dict(scale=False, epsilon=1e-3, momentum=0.995)),  # facenet's
        ((6, 9, 9, 8), dict(scale=True, center=True, epsilon=1e-5, momentum=0.9)),
        ((3, 5, 5, 4), dict(scale=True, center=False)),
    ],
)
def test_training_and_inference_match_keras(shape, settings):
    rng = np.random.default_rng(0)
    inputs = tf.constant(3.0 + 2.0 * rng.normal(size=shape), tf.float32)
    weights = tf.constant(rng.normal(size=shape), tf.float32)
    expected, fused = (_run(layer, inputs, weights) for layer in _pair(shape, **settings))
    np.testing.assert_allclose(fused[0], expected[0], atol=1e-5)
    for fused_gradient, gradient in zip(fused[1], expected[1], strict=True):
        np.testing.assert_allclose(fused_gradient, gradient, rtol=1e-4, atol=1e-4)
    # The moving variance averages the biased batch variance, as Keras does (the fused kernel
    # hands back the Bessel-corrected one, 16/15 larger on a 4x2x2 batch).
    for fused_statistic, statistic in zip(fused[2], expected[2], strict=True):
        np.testing.assert_allclose(fused_statistic, statistic, rtol=1e-6)
    np.testing.assert_allclose(fused[3], expected[3], atol=1e-5)


def test_bfloat16_activations_keep_float32_statistics():
    shape = (4, 3, 3, 8)
    inputs = tf.constant(np.random.default_rng(1).normal(size=shape), tf.bfloat16)
    keras_layer, fused_layer = _pair(shape, scale=False, dtype="mixed_bfloat16")
    expected, fused = (keras_layer(inputs, training=True), fused_layer(inputs, training=True))
    assert fused.dtype == tf.bfloat16 and fused_layer.moving_mean.dtype == "float32"
    np.testing.assert_allclose(tf.cast(fused, tf.float32), tf.cast(expected, tf.float32), atol=0.02)
    np.testing.assert_allclose(fused_layer.moving_mean, keras_layer.moving_mean, rtol=1e-5)


def test_masks_and_other_ranks_fall_back_to_keras():
    sequence = tf.constant(np.random.default_rng(2).normal(size=(2, 5, 4)), tf.float32)
    mask = tf.constant([[True] * 5, [True, True, False, False, False]])
    keras_layer, fused_layer = _pair(sequence.shape)
    np.testing.assert_allclose(
        fused_layer(sequence, training=True, mask=mask),
        keras_layer(sequence, training=True, mask=mask),
        atol=1e-6,
    )


def test_the_layer_round_trips_through_keras_files(tmp_path):
    inputs = keras.Input((5, 5, 3))
    model = keras.Model(inputs, FusedBatchNormalization(scale=False, name="norm")(inputs))
    model.get_layer("norm").moving_mean.assign([0.5, -0.5, 1.0])
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.get_layer("norm"), FusedBatchNormalization)
    batch = np.random.default_rng(3).normal(size=(2, 5, 5, 3)).astype("float32")
    np.testing.assert_allclose(loaded(batch), model(batch), atol=1e-6)
