"""Tests for Recall@K, medr and meanr: hand-made ranks, chunking and a vsepp-style reference loop."""

import numpy as np
import pytest

from fusion_tf.evaluation.recall import recall_at_k, retrieval_ranks

DEFAULT_KEYS = [
    "i2t_r1",
    "i2t_r5",
    "i2t_r10",
    "t2i_r1",
    "t2i_r5",
    "t2i_r10",
    "rsum",
    "i2t_medr",
    "t2i_medr",
    "i2t_meanr",
    "t2i_meanr",
]


def _reference_metrics(images, captions, caption_to_image):
    """vsepp's i2t/t2i written as plain loops: full argsort per query, position of the ground truth."""
    images = images / np.linalg.norm(images, axis=1, keepdims=True)
    captions = captions / np.linalg.norm(captions, axis=1, keepdims=True)
    image_ranks = []
    for image in range(len(images)):
        order = np.argsort(images[image] @ captions.T)[::-1]
        own_positions = [
            np.where(order == caption)[0][0]
            for caption in np.flatnonzero(caption_to_image == image)
        ]
        image_ranks.append(min(own_positions))
    caption_ranks = []
    for caption in range(len(captions)):
        order = np.argsort(captions[caption] @ images.T)[::-1]
        caption_ranks.append(np.where(order == caption_to_image[caption])[0][0])
    metrics = {}
    for direction, ranks in (("i2t", np.array(image_ranks)), ("t2i", np.array(caption_ranks))):
        for k in (1, 5, 10):
            metrics[f"{direction}_r{k}"] = 100.0 * len(np.where(ranks < k)[0]) / len(ranks)
        metrics[f"{direction}_medr"] = np.floor(np.median(ranks)) + 1
        metrics[f"{direction}_meanr"] = ranks.mean() + 1
    metrics["rsum"] = sum(metrics[f"{d}_r{k}"] for d in ("i2t", "t2i") for k in (1, 5, 10))
    return metrics


def test_perfect_retrieval_scores_100():
    images = np.eye(8, 12)
    caption_to_image = np.repeat(np.arange(8), 5)
    metrics = recall_at_k(images, 3.0 * images[caption_to_image], caption_to_image)
    assert list(metrics) == DEFAULT_KEYS
    assert all(metrics[f"{d}_r{k}"] == 100.0 for d in ("i2t", "t2i") for k in (1, 5, 10))
    assert metrics["rsum"] == 600.0
    assert metrics["i2t_medr"] == metrics["t2i_medr"] == 1.0
    assert metrics["i2t_meanr"] == metrics["t2i_meanr"] == 1.0


def test_text_to_image_known_ranks(embeddings_from_scores):
    # One caption per image; caption i's own image must come at 1-based rank wanted[i].
    wanted = [1, 3, 7, 1, 10, 2, 5, 1, 9, 4]
    num_images = len(wanted)
    scores = np.empty((num_images, num_images))
    for caption, rank in enumerate(wanted):
        others = [(caption + offset) % num_images for offset in range(1, num_images)]
        scores[caption, others] = 0.1 - 0.001 * np.arange(num_images - 1)
        scores[caption, others[: rank - 1]] = 0.9 - 0.01 * np.arange(rank - 1)
        scores[caption, caption] = 0.5
    images, captions = embeddings_from_scores(scores)
    _, caption_ranks = retrieval_ranks(images, captions, np.arange(num_images))
    np.testing.assert_array_equal(caption_ranks + 1, wanted)
    metrics = recall_at_k(images, captions, np.arange(num_images))
    assert metrics["t2i_r1"] == pytest.approx(30.0)
    assert metrics["t2i_r5"] == pytest.approx(70.0)
    assert metrics["t2i_r10"] == pytest.approx(100.0)
    # Zero-based ranks sorted: 0 0 0 1 2 3 4 6 8 9, median 2.5 -> floor + 1 = 3; mean 3.3 + 1.
    assert metrics["t2i_medr"] == 3.0
    assert metrics["t2i_meanr"] == pytest.approx(4.3)


def test_image_to_text_known_ranks_use_best_caption(embeddings_from_scores):
    # Five captions per image; image g's best own caption must come at 1-based rank wanted[g].
    wanted = [1, 3, 7, 1, 20, 2]
    num_images, captions_per_image = len(wanted), 5
    caption_to_image = np.repeat(np.arange(num_images), captions_per_image)
    num_captions = len(caption_to_image)
    scores = np.empty((num_captions, num_images))
    for image, rank in enumerate(wanted):
        own = np.flatnonzero(caption_to_image == image)
        others = [
            (own[-1] + offset) % num_captions for offset in range(1, num_captions - len(own) + 1)
        ]
        scores[others, image] = 0.1 - 0.0001 * np.arange(len(others))
        scores[others[: rank - 1], image] = 0.9 - 0.001 * np.arange(rank - 1)
        # The best own caption sets the rank; the others score lower and must not matter.
        scores[own, image] = 0.5 - 0.05 * np.arange(len(own))
    images, captions = embeddings_from_scores(scores)
    image_ranks, _ = retrieval_ranks(images, captions, caption_to_image)
    np.testing.assert_array_equal(image_ranks + 1, wanted)
    metrics = recall_at_k(images, captions, caption_to_image)
    assert metrics["i2t_r1"] == pytest.approx(100 * 2 / 6)
    assert metrics["i2t_r5"] == pytest.approx(100 * 4 / 6)
    assert metrics["i2t_r10"] == pytest.approx(100 * 5 / 6)
    assert metrics["i2t_medr"] == 2.0
    assert metrics["i2t_meanr"] == pytest.approx(28 / 6 + 1)


@pytest.mark.parametrize("chunk_size", [1, 3, 64])
def test_chunked_equals_unchunked(chunk_size, noisy_embeddings):
    images, captions, caption_to_image = noisy_embeddings(60, 5, noise=1.5, dimension=16)
    whole = recall_at_k(images, captions, caption_to_image, chunk_size=10_000)
    assert recall_at_k(images, captions, caption_to_image, chunk_size=chunk_size) == whole
    assert 0 < whole["i2t_r1"] < 100 and 0 < whole["t2i_r1"] < 100


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_vsepp_reference_loop(seed, noisy_embeddings):
    images, captions, caption_to_image = noisy_embeddings(80, 5, noise=1.2, seed=seed, dimension=16)
    metrics = recall_at_k(images, captions, caption_to_image, chunk_size=17)
    reference = _reference_metrics(images, captions, caption_to_image)
    assert metrics.keys() == reference.keys()
    for key, value in reference.items():
        assert metrics[key] == pytest.approx(value), key


def test_images_with_different_caption_counts_match_reference():
    random = np.random.default_rng(3)
    caption_to_image = np.repeat(np.arange(30), random.integers(1, 8, size=30))
    random.shuffle(caption_to_image)
    images = random.normal(size=(30, 8))
    captions = images[caption_to_image] + random.normal(size=(len(caption_to_image), 8))
    metrics = recall_at_k(images, captions, caption_to_image, chunk_size=4)
    for key, value in _reference_metrics(images, captions, caption_to_image).items():
        assert metrics[key] == pytest.approx(value), key


def test_ties_count_in_the_ground_truths_favour():
    # Images 0 and 1 are identical, so every caption ties its own image with the other one.
    images = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    caption_to_image = np.array([0, 1, 2])
    _, caption_ranks = retrieval_ranks(images, images[caption_to_image], caption_to_image)
    np.testing.assert_array_equal(caption_ranks, [0, 0, 0])


def test_scale_of_embeddings_does_not_matter(noisy_embeddings):
    images, captions, caption_to_image = noisy_embeddings(40, 5, dimension=16)
    scaled = recall_at_k(images * 7.0, captions * 0.01, caption_to_image)
    assert scaled == recall_at_k(images, captions, caption_to_image)


def test_custom_ks_name_the_keys(noisy_embeddings):
    images, captions, caption_to_image = noisy_embeddings(20, 2, dimension=16)
    metrics = recall_at_k(images, captions, caption_to_image, ks=(1, 3))
    assert list(metrics) == [
        "i2t_r1",
        "i2t_r3",
        "t2i_r1",
        "t2i_r3",
        "rsum",
        "i2t_medr",
        "t2i_medr",
        "i2t_meanr",
        "t2i_meanr",
    ]
    assert metrics["rsum"] == pytest.approx(
        metrics["i2t_r1"] + metrics["i2t_r3"] + metrics["t2i_r1"] + metrics["t2i_r3"]
    )


@pytest.mark.parametrize(
    ("caption_to_image", "message"),
    [
        (np.array([0, 0, 1, 1, 2]), "image 3 has no caption"),
        (np.array([0, 1, 2, 3, 4]), "caption 4 points to image 4"),
        (np.array([0, 1, 2]), "one entry per caption"),
        (np.array([0.0, 1.0, 2.0, 3.0, 3.0]), "integers"),
    ],
)
def test_bad_caption_to_image_is_named(caption_to_image, message):
    images = np.eye(4)
    captions = np.eye(4)[[0, 1, 2, 3, 3]]
    with pytest.raises(ValueError, match=message):
        recall_at_k(images, captions, caption_to_image)


def test_bad_embeddings_are_named():
    images = np.eye(3)
    with pytest.raises(ValueError, match="dimension"):
        recall_at_k(images, np.eye(3, 4), np.arange(3))
    with pytest.raises(ValueError, match="caption_embeddings row 1 is all zeros"):
        recall_at_k(images, np.array([[1.0, 0, 0], [0, 0, 0], [0, 0, 1]]), np.arange(3))
    with pytest.raises(ValueError, match="chunk_size"):
        recall_at_k(images, images, np.arange(3), chunk_size=0)
