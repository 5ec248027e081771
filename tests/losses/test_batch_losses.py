"""The batch-wise losses (contrastive, hard-negative, sigmoid): hand-computed values, positives,
replicas, the objective."""

import math
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.losses.contrastive import ContrastiveLoss
from fusion_tf.losses.cross_modal_pairs import cross_modal_pairs
from fusion_tf.losses.hard_negative import hard_negative_loss
from fusion_tf.losses.objective import Objective, loss_terms
from fusion_tf.losses.sigmoid import SigmoidLoss, batch_log_odds
from fusion_tf.modality import CAPTION, PHOTO

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _pairs(embeddings, labels, modality):
    return cross_modal_pairs(
        tf.constant(embeddings, tf.float32), tf.constant(labels), tf.constant(modality)
    )


def _contrastive(pairs, temperature=1.0):
    return float(ContrastiveLoss(temperature, learn_temperature=False)(pairs=pairs))


def _reference_contrastive(embeddings, labels, modality, scale):
    """The definition written out pair by pair, independently of the vectorised layer."""
    x = np.asarray(embeddings, float)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    labels, modality = np.asarray(labels), np.asarray(modality)
    directions = [(PHOTO, CAPTION), (CAPTION, PHOTO)]
    total, pairs = 0.0, 0
    for query_modality, key_modality in directions:
        for i in np.flatnonzero(modality == query_modality):
            keys = np.flatnonzero(modality == key_modality)
            negatives = [k for k in keys if labels[k] != labels[i]]
            for j in (k for k in keys if labels[k] == labels[i]):
                numerator = math.exp(scale * x[i] @ x[j])
                denominator = numerator + sum(math.exp(scale * x[i] @ x[k]) for k in negatives)
                total += -math.log(numerator / denominator)
                pairs += query_modality == PHOTO
    return 0.5 * total / pairs


def test_contrastive_equals_the_hand_computed_value():
    # Two images, one photo and one caption each, orthogonal: every term is log(1 + e^-1).
    embeddings = [[1, 0], [0, 1], [1, 0], [0, 1]]
    pairs = _pairs(embeddings, [0, 1, 0, 1], [PHOTO, PHOTO, CAPTION, CAPTION])
    assert _contrastive(pairs) == pytest.approx(math.log(1 + math.exp(-1)), rel=1e-6)


def test_contrastive_and_sigmoid_match_their_pair_by_pair_definitions_on_a_config2_like_batch():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 6)  # per image: 2 photos (image and flip), 4 captions
    modality = np.tile([PHOTO, PHOTO, CAPTION, CAPTION, CAPTION, CAPTION], 3)
    embeddings = rng.normal(size=(18, 5))
    pairs = _pairs(embeddings, labels, modality)
    expected = _reference_contrastive(embeddings, labels, modality, scale=1 / 0.1)
    assert _contrastive(pairs, temperature=0.1) == pytest.approx(expected, rel=1e-5)
    assert float(pairs.positive_pairs) == 3 * 2 * 4
    expected = _reference_sigmoid(embeddings, labels, modality, scale=10.0, bias=-4.0)
    assert _sigmoid(pairs, scale=10.0, bias=-4.0) == pytest.approx(expected, rel=1e-5)


def _sigmoid(pairs, scale=1.0, bias=0.0):
    return float(SigmoidLoss(scale, bias, learn_scale_and_bias=False)(pairs=pairs))


def _reference_sigmoid(embeddings, labels, modality, scale, bias):
    """SigLIP's definition written out pair by pair: each photo-caption pair once."""
    x = np.asarray(embeddings, float)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    labels, modality = np.asarray(labels), np.asarray(modality)
    total, positives = 0.0, 0
    for i in np.flatnonzero(modality == PHOTO):
        for j in np.flatnonzero(modality == CAPTION):
            sign = 1.0 if labels[i] == labels[j] else -1.0
            total += math.log(1 + math.exp(-sign * (scale * x[i] @ x[j] + bias)))
            positives += sign > 0
    return total / positives


def test_captions_and_flips_of_the_same_image_are_never_negatives():
    # One image alone (two photos as in config-2, three captions, far apart): no negatives at
    # all, so the contrastive and hard-negative losses are exactly 0, and the sigmoid loss has
    # only its six positive terms; were a positive counted as a negative they would differ.
    embeddings = [[1, 0], [0, 1], [1, 1], [-1, 0.2], [0.3, -1]]
    labels, modality = [7] * 5, [PHOTO, PHOTO, CAPTION, CAPTION, CAPTION]
    pairs = _pairs(embeddings, labels, modality)
    assert _contrastive(pairs) == 0.0
    assert float(hard_negative_loss(pairs, margin=0.5)) == 0.0
    x = np.asarray(embeddings, float) / np.linalg.norm(embeddings, axis=1, keepdims=True)
    positives_only = np.mean(
        [math.log(1 + math.exp(-(x[i] @ x[j]))) for i in (0, 1) for j in (2, 3, 4)]
    )
    assert _sigmoid(pairs) == pytest.approx(positives_only, rel=1e-6)


def test_sigmoid_equals_the_hand_computed_value():
    # Two images, one photo and one caption each, orthogonal, scale 1 and bias 0: the positive
    # pairs have logit 1 and the negatives 0, so the sum is 2 log(1 + e^-1) + 2 log 2 over 2.
    embeddings = [[1, 0], [0, 1], [1, 0], [0, 1]]
    pairs = _pairs(embeddings, [0, 1, 0, 1], [PHOTO, PHOTO, CAPTION, CAPTION])
    expected = math.log(1 + math.exp(-1)) + math.log(2)
    assert _sigmoid(pairs) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("images", [2, 3, 45])
def test_batch_log_odds_are_those_of_the_positive_pairs_of_a_config2_batch(images):
    # Per image: 2 photo views (image and flip) and 10 caption views, as config-2 feeds them.
    labels = np.repeat(np.arange(images), 12)
    modality = np.tile([PHOTO] * 2 + [CAPTION] * 10, images)
    embeddings = np.random.default_rng(0).normal(size=(12 * images, 4))
    positives = _pairs(embeddings, labels, modality).photo_to_caption.positives.numpy()
    counted = math.log(positives.sum() / (~positives).sum())
    assert batch_log_odds(images) == pytest.approx(counted, rel=1e-9)
    assert batch_log_odds(45) == pytest.approx(-3.78, abs=0.01)


def test_batch_log_odds_of_one_image_are_zero_and_of_none_refused():
    assert batch_log_odds(1) == 0.0
    with pytest.raises(ValueError, match="at least one image, got 0"):
        batch_log_odds(0)


def test_sigmoid_scale_and_bias_get_gradients_and_round_trip():
    layer = SigmoidLoss()
    assert float(layer.scale) == pytest.approx(10.0) and float(layer.logit_bias) == -10.0
    pairs = _pairs([[1, 0], [0, 1], [0.9, 0.1], [0.2, 0.8]], [0, 1, 0, 1], [0, 0, 1, 1])
    with tf.GradientTape() as tape:
        loss = layer(pairs=pairs)
    scale_gradient, bias_gradient = tape.gradient(loss, [layer.logit_scale, layer.logit_bias])
    # At SigLIP's start the positives' terms dominate: a larger scale and bias both lower them.
    assert float(scale_gradient) < 0 and float(bias_gradient) < 0
    restored = SigmoidLoss.from_config(SigmoidLoss(5.0, -3.0, False).get_config())
    assert (restored.initial_scale, restored.initial_bias) == (5.0, -3.0)
    assert not restored.trainable_variables
    assert float(SigmoidLoss(1000.0, max_scale=100.0).scale) == pytest.approx(100.0)


def test_hard_negative_equals_the_hand_computed_value():
    # cos(p0,c0)=1, cos(p0,c1)=0.8, cos(p1,c0)=0, cos(p1,c1)=0.6, margin 0.5:
    # pair (p0,c0): [0.5-1+0.8]+ = 0.3 (caption side), [0.5-1+0]+ = 0 (photo side);
    # pair (p1,c1): [0.5-0.6+0]+ = 0, [0.5-0.6+0.8]+ = 0.7. Mean over 2 pairs: 0.5.
    embeddings = [[1, 0], [0, 1], [1, 0], [0.8, 0.6]]
    pairs = _pairs(embeddings, [0, 1, 0, 1], [PHOTO, PHOTO, CAPTION, CAPTION])
    assert float(hard_negative_loss(pairs, margin=0.5)) == pytest.approx(0.5, rel=1e-6)


def test_learned_temperature_gets_a_gradient_and_the_scale_is_clipped():
    layer = ContrastiveLoss(temperature=0.001, max_scale=100.0)
    assert float(layer.scale) == pytest.approx(100.0)
    layer = ContrastiveLoss(temperature=0.5)
    pairs = _pairs([[1, 0], [0, 1], [0.9, 0.1], [0.2, 0.8]], [0, 1, 0, 1], [0, 0, 1, 1])
    with tf.GradientTape() as tape:
        loss = layer(pairs=pairs)
    (gradient,) = tape.gradient(loss, layer.trainable_variables)
    assert float(gradient) < 0  # well-separated pairs: a sharper scale lowers the loss
    assert ContrastiveLoss.from_config(layer.get_config()).temperature == 0.5
    assert not ContrastiveLoss(0.5, learn_temperature=False).trainable_variables


@pytest.mark.parametrize("loss", ["", "softmax", "paper+paper", "paper+"])
def test_bad_loss_names_are_refused_with_the_choices(loss):
    with pytest.raises(ValueError, match="paper, contrastive, hard_negative, sigmoid"):
        loss_terms(loss)


def test_objective_weights_and_reports_each_term():
    rng = np.random.default_rng(1)
    labels = tf.constant(np.repeat(np.arange(4), 3), tf.int32)
    modality = tf.constant(np.tile([PHOTO, CAPTION, CAPTION], 4), tf.int32)
    outputs = {
        "prelogits": tf.constant(rng.normal(size=(12, 8)), tf.float32),
        "logits": tf.constant(rng.normal(size=(12, 4)), tf.float32),
    }
    arguments = dict(num_classes=4, embedding_size=8, center_loss_factor=0.1, center_loss_alpha=0.9)
    single = {
        term: Objective(term, **arguments)(outputs, labels, modality, 12, 1, training=False)
        for term in ("paper", "contrastive", "hard_negative", "sigmoid")
    }
    weights = {"paper": 0.5, "contrastive": 2.0, "hard_negative": 3.0, "sigmoid": 4.0}
    objective = Objective(
        "paper+contrastive+hard_negative+sigmoid", weights=weights, sigmoid_bias=-4.0, **arguments
    )
    expected = (
        0.5 * float(single["paper"]["loss"])
        + 2.0 * float(single["contrastive"]["loss"])
        + 3.0 * float(single["hard_negative"]["loss"])
        + 4.0 * float(single["sigmoid"]["loss"])
    )
    assert float(objective.sigmoid.logit_bias) == -4.0
    # Back at the default bias, the sum can be checked against the single terms above.
    objective.sigmoid.logit_bias.assign(-10.0)
    combined = objective(outputs, labels, modality, 12, 1, training=False)
    assert float(combined["loss"]) == pytest.approx(expected, rel=1e-6)
    assert set(combined) == {
        "loss",
        "cross_entropy",
        "center_loss",
        "contrastive",
        "hard_negative",
        "sigmoid",
    }
    assert set(single["contrastive"]) == {"loss", "contrastive"}
    # The learned temperature, scale and bias are trained and saved with the run.
    assert len(objective.trainable_variables) == 3
    assert {"contrastive_loss", "sigmoid_loss"} <= set(objective.checkpoint_items())


# Run on two logical CPUs by the `run_on_two_cpu_replicas` fixture: the global batch of 4 images (1 photo + 3 captions each) is split 2 + 2.
_MIRRORED_SCRIPT = """
    import json
    import numpy as np
    import tensorflow as tf

    from fusion_tf.losses.contrastive import ContrastiveLoss
    from fusion_tf.losses.cross_modal_pairs import cross_modal_pairs
    from fusion_tf.losses.hard_negative import hard_negative_loss
    from fusion_tf.losses.sigmoid import SigmoidLoss

    rng = np.random.default_rng(0)
    features = rng.normal(size=(16, 6)).astype("float32")
    labels = np.repeat(np.arange(4), 4).astype("int32")
    modality = np.tile([0, 1, 1, 1], 4).astype("int32")
    weights = rng.normal(size=(6, 6)).astype("float32")

    def losses(x, y, m, layers, kernel):
        pairs = cross_modal_pairs(tf.matmul(x, kernel), y, m)
        contrastive, sigmoid = layers
        return (
            contrastive(pairs=pairs)
            + hard_negative_loss(pairs, margin=0.3)
            + sigmoid(pairs=pairs)
        )

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        kernel = tf.Variable(weights)
        layers = (ContrastiveLoss(0.2), SigmoidLoss(2.0, -1.0))
    halves = [slice(0, 8), slice(8, 16)]
    inputs = strategy.experimental_distribute_values_from_function(
        lambda context: tuple(
            array[halves[context.replica_id_in_sync_group]] for array in (features, labels, modality)
        )
    )

    def replica_step(x, y, m):
        with tf.GradientTape() as tape:
            loss = losses(x, y, m, layers, kernel)
        return loss, tape.gradient(loss, [kernel, *variables(layers)])

    def variables(layers):
        return [layers[0].logit_scale, layers[1].logit_scale, layers[1].logit_bias]

    @tf.function
    def step(x, y, m):
        loss, gradients = strategy.run(replica_step, args=(x, y, m))
        return (
            strategy.reduce("SUM", loss, axis=None),
            [strategy.reduce("SUM", g, axis=None) for g in gradients],
        )

    distributed_loss, distributed_gradients = step(*inputs)
    single_kernel = tf.Variable(weights)
    single_layers = (ContrastiveLoss(0.2), SigmoidLoss(2.0, -1.0))
    with tf.GradientTape() as tape:
        single_loss = losses(features, labels, modality, single_layers, single_kernel)
    single_gradients = tape.gradient(single_loss, [single_kernel, *variables(single_layers)])
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "loss": [float(distributed_loss), float(single_loss)],
        "kernel": [distributed_gradients[0].numpy().tolist(), single_gradients[0].numpy().tolist()],
        "scalars": [
            [float(g) for g in distributed_gradients[1:]],
            [float(g) for g in single_gradients[1:]],
        ],
    }))
"""


@pytest.mark.slow
def test_two_replicas_give_the_loss_and_gradients_of_one_replica_on_the_whole_batch(
    run_on_two_cpu_replicas,
):
    result = run_on_two_cpu_replicas(_MIRRORED_SCRIPT)
    assert result["replicas"] == 2
    assert result["loss"][0] == pytest.approx(result["loss"][1], rel=1e-5)
    # The contrastive temperature, the sigmoid loss's scale and its bias.
    assert result["scalars"][0] == pytest.approx(result["scalars"][1], rel=1e-4, abs=1e-6)
    distributed, single = (np.array(gradient) for gradient in result["kernel"])
    assert np.abs(single).max() > 1e-3  # a real gradient, not two zeros
    np.testing.assert_allclose(distributed, single, rtol=1e-4, atol=1e-6)
