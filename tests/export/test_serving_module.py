"""FusionServingModule in memory: per-image standardisation and its argument checks."""

import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.data import pipeline
from fusion_tf.export import FusionServingModule
from fusion_tf.models.fusion_model import FusionModel
from tfrecords_builder.images import to_jpeg


@pytest.fixture(scope="module")
def model():
    return FusionModel(num_classes=3, image_size=75, preset="tiny")


@pytest.mark.slow
def test_per_image_standardization_matches_evaluation(model, sample_encoder, sample_photos):
    module = FusionServingModule(model, sample_encoder, standardization="per_image")
    photos = sample_photos.encoded[:2] + sample_photos.encoded[-2:]
    captions = sample_photos.captions[:3]

    served_photos = module.embed_image(tf.constant(photos))["embeddings"].numpy()
    served_captions = module.embed_text(tf.constant(captions))["embeddings"].numpy()

    stored = [to_jpeg(photo, 256, 95, 10**8) for photo in photos]
    pixels = tf.stack([pipeline.decode_image(jpeg, 75) for jpeg in stored])
    expected_photos = model.embed_photos(pipeline.standardize(pixels, "per_image")).numpy()
    canvases = pipeline.resize(sample_encoder.encode(captions), 75)
    expected_captions = model.embed_captions(pipeline.standardize(canvases, "per_image")).numpy()
    np.testing.assert_allclose(served_photos, expected_photos, rtol=0, atol=1e-5)
    np.testing.assert_allclose(served_captions, expected_captions, rtol=0, atol=1e-5)
    fixed = FusionServingModule(model, sample_encoder, standardization="fixed")
    assert (
        np.abs(fixed.embed_text(tf.constant(captions))["embeddings"] - served_captions).max() > 1e-3
    )


def test_unknown_standardization_is_refused(model, sample_encoder):
    with pytest.raises(ValueError, match="'mean'"):
        FusionServingModule(model, sample_encoder, standardization="mean")
