"""Tests for CenterLoss: the loss value, the center update rules, saving and tf.distribute."""

import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.models.center_loss import CenterLoss

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _repeated_label_batch(num_classes=45, repeats=6, embedding_size=8, seed=0):
    """A batch shaped like ours: each class (an image and its 5 captions) appears `repeats` times."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(num_classes), repeats).astype("int32")
    class_means = 3.0 * rng.normal(size=(num_classes, embedding_size))
    features = class_means[labels] + 0.5 * rng.normal(size=(len(labels), embedding_size))
    batch_means = features.reshape(num_classes, repeats, embedding_size).mean(axis=1)
    return features.astype("float32"), labels, batch_means


def _updated_centers(layer, features, labels, steps):
    """The centers after each of `steps` training calls on the same batch."""
    history = []
    for _ in range(steps):
        layer(features, labels, training=True)
        history.append(layer.centers.numpy().copy())
    return history


@pytest.mark.parametrize(
    ("alpha", "divide_by_count", "contraction"),
    [
        # c - mean is multiplied by 1 - (1 - alpha) * n / (1 + n) with n = 6 repeats ...
        (0.5, True, 1 - 0.5 * 6 / 7),
        (0.0, True, 1 - 1.0 * 6 / 7),
        # ... and by 1 - (1 - alpha) * n without the division (facenet).
        (0.95, False, 1 - 0.05 * 6),
        (0.8, False, 1 - 0.2 * 6),
        (0.5, False, 1 - 0.5 * 6),
    ],
)
def test_update_follows_the_closed_form(alpha, divide_by_count, contraction):
    features, labels, batch_means = _repeated_label_batch()
    layer = CenterLoss(45, embedding_size=8, alpha=alpha, divide_by_count=divide_by_count)
    history = _updated_centers(layer, features, labels, steps=5)
    for step, centers in enumerate(history, start=1):
        # Centers start at zero, so after t updates c = mean * (1 - contraction^t).
        np.testing.assert_allclose(
            centers, batch_means * (1 - contraction**step), rtol=1e-4, atol=1e-4
        )


def test_divided_update_converges_without_overshoot_on_repeated_labels():
    features, labels, batch_means = _repeated_label_batch()
    layer = CenterLoss(45, embedding_size=8, alpha=0.5, divide_by_count=True)
    initial_offset = -batch_means  # centers start at zero
    distances = []
    for centers in _updated_centers(layer, features, labels, steps=20):
        offset = centers - batch_means
        # Still on the starting side of every class mean: no overshoot.
        assert np.all(np.sum(offset * initial_offset, axis=1) > 0)
        distances.append(np.linalg.norm(offset))
    assert all(later < earlier for earlier, later in zip(distances, distances[1:], strict=False))
    assert distances[-1] < 1e-3 * np.linalg.norm(initial_offset)


def test_undivided_facenet_update_overshoots_and_diverges_on_repeated_labels():
    features, labels, batch_means = _repeated_label_batch()
    initial_distance = np.linalg.norm(batch_means)

    # (1 - alpha) * n = 1.2: every center jumps past its class mean, then converges.
    overshooting = CenterLoss(45, embedding_size=8, alpha=0.8, divide_by_count=False)
    history = _updated_centers(overshooting, features, labels, steps=20)
    first_offset = history[0] - batch_means
    assert np.all(np.sum(first_offset * -batch_means, axis=1) < 0)
    assert np.linalg.norm(history[-1] - batch_means) < 1e-3 * initial_distance

    # (1 - alpha) * n = 3: the distance to the mean doubles at every step.
    diverging = CenterLoss(45, embedding_size=8, alpha=0.5, divide_by_count=False)
    history = _updated_centers(diverging, features, labels, steps=10)
    assert np.linalg.norm(history[-1] - batch_means) > 1000 * initial_distance


def test_centers_converge_to_class_means_on_random_batches():
    rng = np.random.default_rng(3)
    class_means = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]], "float32")
    layer = CenterLoss(4, embedding_size=2, alpha=0.9)
    update = tf.function(lambda features, labels: layer(features, labels, training=True))
    for _ in range(300):
        labels = rng.integers(0, 4, size=32).astype("int32")
        features = class_means[labels] + 0.3 * rng.normal(size=(32, 2)).astype("float32")
        update(features, labels)
    np.testing.assert_allclose(layer.centers.numpy(), class_means, atol=0.1)


@pytest.mark.parametrize("traced", [False, True])
def test_loss_uses_centers_before_the_update(traced):
    rng = np.random.default_rng(4)
    features = rng.normal(size=(6, 4)).astype("float32")
    labels = np.array([0, 0, 1, 2, 2, 2], "int32")
    layer = CenterLoss(3, embedding_size=4, center_loss_factor=0.5)
    layer.build(features.shape)
    centers = rng.normal(size=(3, 4)).astype("float32")
    layer.centers.assign(centers)
    # facenet: tf.reduce_mean(tf.square(features - centers_batch)), a mean over batch and dims.
    expected = 0.5 * np.mean(np.square(features - centers[labels]))

    def train(x, y):
        return layer(x, y, training=True)

    if traced:
        train = tf.function(train)
    assert float(train(features, labels)) == pytest.approx(expected, rel=1e-6)
    assert not np.allclose(layer.centers.numpy(), centers)
    assert float(train(features, labels)) < expected


@pytest.mark.parametrize("training", [False, None])
def test_centers_only_move_in_training(training):
    features, labels, _ = _repeated_label_batch(num_classes=3, embedding_size=4)
    layer = CenterLoss(3, embedding_size=4)
    layer(features, labels, training=training)
    np.testing.assert_array_equal(layer.centers.numpy(), 0.0)


def test_gradient_reaches_features_only():
    features = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    labels = tf.constant([0, 1])
    layer = CenterLoss(2, embedding_size=2, center_loss_factor=2.0)
    with tf.GradientTape() as tape:
        tape.watch(features)
        loss = layer(features, labels, training=True)
    # d/dx of 2 * mean((x - 0)^2) over 4 entries is 2 * 2x / 4.
    np.testing.assert_allclose(tape.gradient(loss, features), features.numpy(), rtol=1e-6)
    assert not layer.trainable_weights
    assert len(layer.non_trainable_weights) == 1


@pytest.mark.parametrize("feature_dtype", ["float16", "bfloat16"])
def test_half_precision_features_give_float32_loss_and_centers(feature_dtype):
    features, labels, _ = _repeated_label_batch(num_classes=3, embedding_size=4)
    layer = CenterLoss(3, embedding_size=4)
    loss = layer(tf.cast(features, feature_dtype), labels, training=True)
    assert loss.dtype == tf.float32
    assert layer.centers.dtype == "float32"


def test_xla_update_matches_eager():
    features, labels, _ = _repeated_label_batch(num_classes=5, embedding_size=4)
    eager = CenterLoss(5, embedding_size=4, alpha=0.5)
    compiled = CenterLoss(5, embedding_size=4, alpha=0.5)
    step = tf.function(lambda x, y: compiled(x, y, training=True), jit_compile=True)
    for _ in range(3):
        eager(features, labels, training=True)
        step(features, labels)
    np.testing.assert_allclose(compiled.centers.numpy(), eager.centers.numpy(), rtol=1e-5)


def test_wrong_embedding_size_raises():
    with pytest.raises(ValueError, match="features of size 128"):
        CenterLoss(3)(np.zeros((2, 64), "float32"), np.zeros(2, "int32"))


@pytest.mark.parametrize(
    "arguments",
    [{"num_classes": 0}, {"num_classes": 3, "alpha": 1.5}, {"num_classes": 3, "embedding_size": 0}],
)
def test_bad_arguments_raise(arguments):
    with pytest.raises(ValueError, match="CenterLoss needs"):
        CenterLoss(**arguments)


def test_keras_file_round_trip_keeps_config_and_centers(tmp_path):
    features = keras.Input((4,), name="features")
    labels = keras.Input((), dtype="int32", name="labels")
    layer = CenterLoss(
        3,
        embedding_size=4,
        alpha=0.7,
        center_loss_factor=0.25,
        divide_by_count=False,
        name="center_loss",
    )
    model = keras.Model([features, labels], layer(features, labels))
    batch, batch_labels, _ = _repeated_label_batch(num_classes=3, embedding_size=4)
    layer(batch, batch_labels, training=True)

    path = tmp_path / "center_loss.keras"
    model.save(path)
    loaded = keras.saving.load_model(path).get_layer("center_loss")
    assert loaded.get_config() == layer.get_config()
    np.testing.assert_array_equal(loaded.centers.numpy(), layer.centers.numpy())
    assert float(loaded(batch, batch_labels)) == pytest.approx(float(layer(batch, batch_labels)))


# Run on two logical CPUs by the `run_on_two_cpu_replicas` fixture. Replica 0 gets 4 samples and replica 1 gets 5; class 3 is on both replicas.
_MIRRORED_SCRIPT = """
    import json
    import numpy as np
    import tensorflow as tf

    from fusion_tf.models.center_loss import CenterLoss

    rng = np.random.default_rng(0)
    features = rng.normal(size=(9, 4)).astype("float32")
    labels = np.array([0, 1, 1, 3, 3, 3, 2, 4, 3], "int32")
    splits = [slice(0, 4), slice(4, 9)]
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        layer = CenterLoss(5, embedding_size=4, alpha=0.5)
        layer.build(features.shape)
    inputs = strategy.experimental_distribute_values_from_function(
        lambda context: (
            features[splits[context.replica_id_in_sync_group]],
            labels[splits[context.replica_id_in_sync_group]],
        )
    )

    @tf.function
    def step(replica_features, replica_labels):
        return strategy.run(
            lambda x, y: layer(x, y, training=True), args=(replica_features, replica_labels)
        )

    for _ in range(3):
        step(*inputs)
    single = CenterLoss(5, embedding_size=4, alpha=0.5)
    for _ in range(3):
        single(features, labels, training=True)
    print(json.dumps({
        "num_replicas": strategy.num_replicas_in_sync,
        "replicas": [copy.numpy().tolist() for copy in layer.centers.value.values],
        "single": single.centers.numpy().tolist(),
    }))
"""


@pytest.mark.slow
def test_mirrored_replicas_hold_identical_centers_equal_to_single_replica(run_on_two_cpu_replicas):
    result = run_on_two_cpu_replicas(_MIRRORED_SCRIPT)
    assert result["num_replicas"] == 2
    first, second = (np.array(copy) for copy in result["replicas"])
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, np.array(result["single"]), rtol=1e-5, atol=1e-6)
    assert np.all(np.abs(first) > 0)  # every class, including the one split across replicas, moved
