"""The fused model: outputs, shared, separate or norm-split towers, a smaller or narrower caption tower, embeddings, .keras round trip."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.models.fused_batch_norm import FusedBatchNormalization
from fusion_tf.models.fusion_model import FusionModel


def _inputs(count=6, size=75):
    images = tf.random.stateless_uniform([count, size, size, 3], seed=[0, 1], minval=-1, maxval=1)
    modality = tf.constant([0, 1, 1, 1, 1, 1][:count])
    return {"images": images, "modality": modality}


@pytest.mark.parametrize("towers", ["single", "separate", "single_modality_norm"])
def test_outputs_and_embeddings(towers):
    model = FusionModel(num_classes=7, image_size=75, preset="tiny", towers=towers)
    outputs = model(_inputs(), training=False)
    assert outputs["prelogits"].shape == (6, 128) and outputs["logits"].shape == (6, 7)
    embeddings = model.embed_captions(_inputs()["images"])
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)


def test_single_tower_shares_weights_and_separate_doubles_them():
    single = FusionModel(num_classes=7, image_size=75, preset="tiny")
    separate = FusionModel(num_classes=7, image_size=75, preset="tiny", towers="separate")
    images = _inputs()["images"]
    np.testing.assert_array_equal(single.embed_photos(images), single.embed_captions(images))
    counts = single.parameter_counts()
    backbone, head = counts["backbone"], counts["classifier"]
    assert backbone == single.photo_backbone.count_params() and head == 7 * (128 + 1)
    assert counts["total"] == single.count_params() == backbone + head
    assert counts["caption_backbone"] == backbone  # the same backbone
    assert separate.parameter_counts() == {
        "backbone": backbone,
        "caption_backbone": backbone,
        "classifier": head,
        "total": 2 * backbone + head,
    }


@pytest.mark.parametrize("towers", ["separate", "single_modality_norm"])
def test_two_backbones_route_each_sample_by_modality(towers):
    model = FusionModel(num_classes=3, image_size=75, preset="tiny", towers=towers)
    inputs = _inputs()
    prelogits = model(inputs, training=False)["prelogits"].numpy()
    photos = model.photo_backbone(inputs["images"][:1], training=False).numpy()
    captions = model.caption_backbone(inputs["images"][1:], training=False).numpy()
    np.testing.assert_allclose(prelogits, np.concatenate([photos, captions]), atol=1e-5)


def _weighted_layers(backbone):
    return [
        layer
        for layer in backbone.layers
        if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)
    ]


def _batch_norms(backbone):
    return [layer for layer in backbone.layers if isinstance(layer, FusedBatchNormalization)]


def test_modality_norm_shares_every_weight_but_the_batch_norms():
    model = FusionModel(num_classes=7, image_size=75, preset="tiny", towers="single_modality_norm")
    photo, caption = model.photo_backbone, model.caption_backbone
    assert [layer.name for layer in _weighted_layers(photo)] == [
        layer.name for layer in _weighted_layers(caption)
    ]
    assert all(
        a is b for a, b in zip(_weighted_layers(photo), _weighted_layers(caption), strict=True)
    )
    photo_norms, caption_norms = _batch_norms(photo), _batch_norms(caption)
    assert len(photo_norms) == len(caption_norms) > 10
    assert not any(a is b for a, b in zip(photo_norms, caption_norms, strict=True))
    # Shared kernels count once: the total is one backbone, one set of batch norms and the head.
    norm_weights = sum(layer.count_params() for layer in caption_norms)
    counts = model.parameter_counts()
    assert counts["total"] == counts["backbone"] + norm_weights + counts["classifier"]
    trainable_ids = [id(variable) for variable in model.trainable_variables]
    assert len(trainable_ids) == len(set(trainable_ids))
    # Weight decay counts each shared kernel once, as in the paper's one network.
    single = FusionModel(num_classes=7, image_size=75, preset="tiny", towers="single")
    assert len(model.losses) == len(single.losses) == len(_weighted_layers(photo)) + 1


def test_modality_norm_keeps_each_modality_statistics_apart():
    model = FusionModel(num_classes=7, image_size=75, preset="tiny", towers="single_modality_norm")
    inputs = _inputs()
    # Captions far brighter than the photo: statistics that mixed them would show it.
    images = tf.concat([inputs["images"][:1], inputs["images"][1:] + 3.0], axis=0)
    model({"images": images, "modality": inputs["modality"]}, training=True)
    stem = "Conv2d_1a_3x3__BatchNorm"
    photo_norm = model.photo_backbone.get_layer(stem)
    caption_norm = model.caption_backbone.get_layer(stem)
    kernel = model.photo_backbone.get_layer("Conv2d_1a_3x3").kernel
    momentum = photo_norm.momentum

    def expected_mean(batch):
        features = tf.nn.conv2d(batch, kernel, strides=2, padding="VALID")
        return (1.0 - momentum) * tf.reduce_mean(features, axis=[0, 1, 2])

    np.testing.assert_allclose(photo_norm.moving_mean, expected_mean(images[:1]), atol=1e-5)
    np.testing.assert_allclose(caption_norm.moving_mean, expected_mean(images[1:]), atol=1e-5)
    # Evaluation uses each modality's own statistics: the same pixels embed differently.
    assert np.abs(model.embed_photos(images) - model.embed_captions(images)).max() > 1e-3


@pytest.mark.parametrize("towers", ["separate", "single_modality_norm"])
def test_captions_read_at_their_own_smaller_side(towers):
    model = FusionModel(
        num_classes=3, image_size=96, preset="tiny", towers=towers, caption_image_size=75
    )
    assert model.photo_backbone.input_shape == (None, 96, 96, 3)
    assert model.caption_backbone.input_shape == (None, 75, 75, 3)
    # A mixed batch arrives at 96 px; the captions alone are resized to 75 before their tower.
    inputs = _inputs(size=96)
    prelogits = model(inputs, training=False)["prelogits"].numpy()
    photos = model.photo_backbone(inputs["images"][:1], training=False).numpy()
    resized = tf.image.resize(inputs["images"][1:], (75, 75), method="bilinear")
    captions = model.caption_backbone(resized, training=False).numpy()
    np.testing.assert_allclose(prelogits, np.concatenate([photos, captions]), atol=1e-5)
    # Serving and evaluation hand captions over at 96 px too, and get the same embeddings.
    np.testing.assert_allclose(
        model.embed_captions(inputs["images"][1:]),
        tf.math.l2_normalize(captions, axis=-1),
        atol=1e-5,
    )


def test_one_network_reads_one_size():
    with pytest.raises(ValueError, match="caption_image_size=75 differs from image_size=96"):
        FusionModel(num_classes=2, image_size=96, preset="tiny", caption_image_size=75)
    same = FusionModel(num_classes=2, image_size=75, preset="tiny", caption_image_size=75)
    assert same.caption_backbone is same.photo_backbone


@pytest.mark.parametrize(
    "towers, caption_image_size",
    [("separate", None), ("single_modality_norm", None), ("separate", 75)],
)
def test_keras_file_round_trip(tmp_path, towers, caption_image_size):
    image_size = 80 if caption_image_size else 75
    model = FusionModel(
        num_classes=5,
        image_size=image_size,
        preset="tiny",
        towers=towers,
        caption_image_size=caption_image_size,
    )
    inputs = _inputs(size=image_size)
    model(inputs, training=True)  # moving statistics that differ between the modalities
    expected = model(inputs, training=False)["logits"].numpy()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_config()["towers"] == towers
    assert loaded.caption_backbone.input_shape[1] == (caption_image_size or image_size)
    np.testing.assert_allclose(loaded(inputs, training=False)["logits"], expected, atol=1e-5)
    shared = (
        _weighted_layers(loaded.photo_backbone)[0] is _weighted_layers(loaded.caption_backbone)[0]
    )
    assert shared == (towers == "single_modality_norm")


def test_caption_tower_of_its_own_preset():
    model = FusionModel(
        num_classes=3, image_size=75, preset="small", towers="separate", caption_preset="tiny"
    )
    stem = "Conv2d_1a_3x3"
    assert model.photo_backbone.get_layer(stem).filters == 16  # small: half of facenet's 32
    assert model.caption_backbone.get_layer(stem).filters == 8  # tiny: a quarter
    tiny = FusionModel(num_classes=3, image_size=75, preset="tiny", towers="separate")
    small = FusionModel(num_classes=3, image_size=75, preset="small", towers="separate")
    counts = model.parameter_counts()
    assert counts["backbone"] == small.parameter_counts()["backbone"]
    assert counts["caption_backbone"] == tiny.parameter_counts()["caption_backbone"]
    assert counts["total"] == counts["backbone"] + counts["caption_backbone"] + 3 * 129
    inputs = _inputs()
    prelogits = model(inputs, training=False)["prelogits"].numpy()
    captions = model.caption_backbone(inputs["images"][1:], training=False).numpy()
    np.testing.assert_allclose(prelogits[1:], captions, atol=1e-5)
    assert FusionModel.from_config(model.get_config()).caption_preset == "tiny"
    # A model saved before the setting existed reads as both towers of one preset.
    config = {**small.get_config()}
    del config["caption_preset"]
    assert FusionModel.from_config(config).caption_preset == "small"


@pytest.mark.parametrize("towers", ["single", "single_modality_norm"])
def test_shared_convolutions_take_one_preset(towers):
    with pytest.raises(ValueError, match="shares its convolutions"):
        FusionModel(
            num_classes=2, image_size=75, preset="small", towers=towers, caption_preset="tiny"
        )
    same = FusionModel(
        num_classes=2, image_size=75, preset="tiny", towers=towers, caption_preset="tiny"
    )
    assert same.caption_preset == same.preset


def test_unknown_towers_rejected():
    with pytest.raises(ValueError, match="towers"):
        FusionModel(num_classes=2, towers="three")
