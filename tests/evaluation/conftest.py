"""Fixtures for the metric tests: embeddings with chosen similarities, or noisy matches."""

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


def _noisy_embeddings(num_images, captions_per_image, dimension=8, noise=1.0, seed=0):
    """Random image embeddings and, for each, captions that are it plus Gaussian noise.

    Returns (images, captions, caption_to_image); more noise, lower recall.
    """
    random = np.random.default_rng(seed)
    images = random.normal(size=(num_images, dimension))
    caption_to_image = np.repeat(np.arange(num_images), captions_per_image)
    captions = images[caption_to_image] + noise * random.normal(
        size=(len(caption_to_image), dimension)
    )
    return images, captions, caption_to_image


@pytest.fixture
def noisy_embeddings():
    return _noisy_embeddings
