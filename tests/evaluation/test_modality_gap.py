"""The modality gap: distance between the mean photo and the mean caption embedding."""

import numpy as np
import pytest

from fusion_tf.evaluation.modality_gap import modality_gap


def test_shared_embeddings_have_no_gap():
    rng = np.random.default_rng(0)
    photos = rng.normal(size=(10, 4))
    assert modality_gap(photos, np.repeat(photos, 5, axis=0)) == pytest.approx(0.0, abs=1e-6)


def test_opposite_modalities_have_the_largest_gap():
    photos = np.tile([[3.0, 0.0]], (4, 1))
    captions = np.tile([[-0.5, 0.0]], (20, 1))
    assert modality_gap(photos, captions) == pytest.approx(2.0)


def test_the_gap_is_measured_on_normalised_embeddings():
    # Unit photo (1, 0) and captions (0, 2), (0, -2) -> normalised mean (0, 0): gap 1.
    assert modality_gap([[5.0, 0.0]], [[0.0, 2.0], [0.0, -2.0]]) == pytest.approx(1.0)


def test_bad_embeddings_are_refused():
    with pytest.raises(ValueError, match="image_embeddings row 0 is all zeros"):
        modality_gap(np.zeros((1, 3)), np.ones((2, 3)))
