"""The network's numbers pinned: a speed change (fused batch norm, another layout) cannot alter them.

Weights are set from NumPy, not Keras's initialisers, so the pins hold across Keras versions; the
inputs are fixed too. Pinned: inference embeddings (moving statistics), training-mode
pre-logits (batch statistics), and the gradient of a fixed function of the logits. The tolerance
(1e-4 relative) allows another summation order in the convolutions, not another network; the
training-mode pre-logits get 1e-3, because batch statistics over 4 images re-derive every
layer's normalisation from the rounding of the one before (fused against Keras's unfused batch
norm: 4e-4 there, 3e-5 on the embeddings, 7e-8 on the gradient norm).
"""

import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.models.fusion_model import FusionModel

# preset -> image size, inference embedding [0, :4], training pre-logits [1, :4], gradient norm.
PINS = {
    "tiny": (
        75,
        [0.013123, -0.053751, -0.031175, 0.075133],
        [0.481745, -1.095824, -0.12437, 1.287095],
        55.457062,
    ),
    "facenet": (
        96,
        [-0.039345, -0.064427, -0.090902, 0.05675],
        [-1.241249, -0.699777, -1.177608, 0.244684],
        52.640133,
    ),
}


def _fixed_model(preset: str, image_size: int) -> FusionModel:
    model = FusionModel(
        num_classes=5,
        image_size=image_size,
        preset=preset,
        dropout_keep_probability=1.0,  # dropout draws random numbers: leave it out of the pins
        towers="single",
    )
    model(_fixed_inputs(image_size), training=False)
    rng = np.random.default_rng(0)
    for variable in sorted(model.weights, key=lambda weight: weight.path):
        shape = tuple(variable.shape)
        if variable.path.endswith(("moving_variance", "gamma")):
            value = 1.0 + 0.1 * np.abs(rng.normal(size=shape))
        elif len(shape) > 1:  # a kernel: unit-variance activations whatever its fan-in
            value = rng.normal(size=shape) / np.sqrt(np.prod(shape[:-1]))
        else:
            value = 0.1 * rng.normal(size=shape)
        variable.assign(value.astype("float32"))
    return model


def _fixed_inputs(image_size: int) -> dict:
    grid = np.linspace(-1.0, 1.0, 4 * image_size * image_size * 3, dtype="float32")
    images = np.sin(7.0 * grid).reshape(4, image_size, image_size, 3)
    return {"images": tf.constant(images), "modality": tf.constant([0, 1, 1, 0])}


def _measure(preset: str, image_size: int) -> tuple[np.ndarray, np.ndarray, float]:
    model = _fixed_model(preset, image_size)
    inputs = _fixed_inputs(image_size)
    embedding = model.embed_photos(inputs["images"]).numpy()
    with tf.GradientTape() as tape:
        outputs = model(inputs, training=True)
        target = tf.reduce_sum(outputs["logits"] * tf.range(1.0, 6.0))
    gradients = tape.gradient(target, model.trainable_weights)
    return (
        embedding[0, :4],
        outputs["prelogits"].numpy()[1, :4],
        float(tf.linalg.global_norm(gradients)),
    )


@pytest.mark.parametrize("preset", ["tiny", pytest.param("facenet", marks=pytest.mark.slow)])
def test_outputs_and_gradients_match_the_pins(preset):
    image_size, embedding, prelogits, gradient_norm = PINS[preset]
    measured = _measure(preset, image_size)
    np.testing.assert_allclose(measured[0], embedding, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(measured[1], prelogits, rtol=1e-3, atol=1e-6)
    assert measured[2] == pytest.approx(gradient_norm, rel=1e-4)
