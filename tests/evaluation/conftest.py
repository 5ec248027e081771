"""Fixtures for the metric tests: embeddings whose similarities are a chosen matrix."""

import numpy as np
import pytest


def _embeddings_from_scores(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(images, captions) whose cosine similarities order exactly like scores[caption, image].

    Images are the unit basis vectors; caption c is row c of scores plus one padding coordinate
    that gives every caption the same norm. Then cos(caption c, image i) = scores[c, i] / norm,
    one positive constant, so both rows (text to image) and columns (image to text) keep the
    order of the chosen scores.
    """
    scores = np.asarray(scores, dtype=np.float64)
    num_captions, num_images = scores.shape
    squared_norms = (scores**2).sum(axis=1)
    padding = np.sqrt(squared_norms.max() + 1.0 - squared_norms)
    images = np.eye(num_images, num_images + 1)
    captions = np.concatenate([scores, padding[:, None]], axis=1)
    return images, captions


@pytest.fixture
def embeddings_from_scores():
    return _embeddings_from_scores
