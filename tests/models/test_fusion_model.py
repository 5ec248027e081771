"""The fused model: outputs, shared or separate towers, embeddings, and a .keras round trip."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.models.fusion_model import FusionModel


def _inputs(count=6, size=75):
    images = tf.random.stateless_uniform([count, size, size, 3], seed=[0, 1], minval=-1, maxval=1)
    modality = tf.constant([0, 1, 1, 1, 1, 1][:count])
    return {"images": images, "modality": modality}


@pytest.mark.parametrize("towers", ["single", "separate"])
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
    assert separate.parameter_counts() == {
        "backbone": backbone,
        "classifier": head,
        "total": 2 * backbone + head,
    }


def test_separate_towers_route_each_sample_by_modality():
    model = FusionModel(num_classes=3, image_size=75, preset="tiny", towers="separate")
    inputs = _inputs()
    prelogits = model(inputs, training=False)["prelogits"].numpy()
    photos = model.photo_backbone(inputs["images"][:1], training=False).numpy()
    captions = model.caption_backbone(inputs["images"][1:], training=False).numpy()
    np.testing.assert_allclose(prelogits, np.concatenate([photos, captions]), atol=1e-5)


def test_keras_file_round_trip(tmp_path):
    model = FusionModel(num_classes=5, image_size=75, preset="tiny", towers="separate")
    inputs = _inputs()
    expected = model(inputs, training=False)["logits"].numpy()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_config()["towers"] == "separate"
    np.testing.assert_allclose(loaded(inputs, training=False)["logits"], expected, atol=1e-5)


def test_unknown_towers_rejected():
    with pytest.raises(ValueError, match="towers"):
        FusionModel(num_classes=2, towers="three")
