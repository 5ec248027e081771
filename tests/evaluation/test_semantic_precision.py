"""Tests for the caption-overlap relevance and semantic R-precision / precision@K on a hand-made set."""

import numpy as np
import pytest

from fusion_tf.evaluation.recall import recall_at_k
from fusion_tf.evaluation.semantic import (
    caption_image_relevance,
    content_words,
    semantic_r_precision,
)

CAPTIONS = [
    ["A dog runs on the grass.", "Brown dog on grass"],
    ["a dog runs on grass", "A puppy playing"],
    ["A man rides a bike", "cyclist on a road"],
    ["A woman reads a book", "person reading"],
]
CAPTION_TO_IMAGE = np.repeat(np.arange(4), 2)
# Caption c is related to image i when some caption of i shares >= half of their content words
# ({dog, runs, grass} and {brown, dog, grass} share 2 of 4), or when i is c's own image.
RELEVANT = np.array(
    [
        [1, 1, 0, 0],
        [1, 1, 0, 0],
        [1, 1, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
        [0, 0, 0, 1],
    ],
    dtype=bool,
)
# scores[caption, image]; all values in a row and in a column differ, so rankings have no ties.
SCORES = np.array(
    [
        [0.60, 0.90, 0.10, 0.20],
        [0.80, 0.30, 0.50, 0.12],
        [0.70, 0.40, 0.20, 0.30],
        [0.20, 0.35, 0.60, 0.10],
        [0.10, 0.20, 0.90, 0.32],
        [0.30, 0.10, 0.22, 0.80],
        [0.15, 0.25, 0.35, 0.95],
        [0.45, 0.05, 0.25, 0.55],
    ]
)


def test_content_words_drop_stop_words_and_punctuation():
    assert content_words("A dog runs on the grass.") == {"dog", "runs", "grass"}
    assert content_words("The two black dogs are in a field") == {"two", "black", "dogs", "field"}


def test_relevance_matches_hand_made_matrix():
    relevance = caption_image_relevance(CAPTION_TO_IMAGE, CAPTIONS, chunk_size=3)
    np.testing.assert_array_equal(relevance.toarray(), RELEVANT)


def test_stricter_threshold_drops_partial_overlap():
    relevance = caption_image_relevance(CAPTION_TO_IMAGE, CAPTIONS, threshold=0.6).toarray()
    # "brown dog on grass" shares only 2 of 4 words with image 1's "a dog runs on grass".
    assert not relevance[1, 1]
    assert relevance[0, 1] and relevance[2, 0]


def test_semantic_precision_on_hand_made_rankings(embeddings_from_scores):
    images, captions = embeddings_from_scores(SCORES)
    metrics = semantic_r_precision(
        images, captions, CAPTION_TO_IMAGE, CAPTIONS, ks=(1, 2), chunk_size=3
    )
    # Text to image, per caption: rankings from SCORES rows, relevance from RELEVANT rows.
    # R-precision 1, .5, 1, 0, 1, 0, 1, 1; precision@1 1, 1, 1, 0, 1, 0, 1, 1;
    # precision@2 1, .5, 1, .5, .5, 0, .5, .5.
    assert metrics["t2i_r_precision"] == pytest.approx(100 * 5.5 / 8)
    assert metrics["t2i_precision_at_1"] == pytest.approx(100 * 6 / 8)
    assert metrics["t2i_precision_at_2"] == pytest.approx(100 * 4.5 / 8)
    assert metrics["t2i_mean_relevant"] == pytest.approx(11 / 8)
    # Image to text, per image: top captions by SCORES columns (c1 c2 c0 ..., c0 c2 c3 c1 ...,
    # c4 c3 ..., c6 c5 ...), relevant sets {c0 c1 c2}, {c0 c1 c2 c3}, {c4 c5}, {c6 c7}.
    assert metrics["i2t_r_precision"] == pytest.approx(100 * 3 / 4)
    assert metrics["i2t_precision_at_1"] == pytest.approx(100.0)
    assert metrics["i2t_precision_at_2"] == pytest.approx(100 * 3 / 4)
    assert metrics["i2t_mean_relevant"] == pytest.approx(11 / 4)
    # Recall@1 counts the semantically right first results of captions 0 and 2 as misses.
    assert recall_at_k(images, captions, CAPTION_TO_IMAGE)["t2i_r1"] == pytest.approx(50.0)


def test_chunk_size_does_not_change_results():
    random = np.random.default_rng(0)
    texts = [
        [f"a {w} and a {v}" for v in random.choice(["cat", "dog", "car", "tree"], 3)]
        for w in ["red", "blue"] * 10
    ]
    caption_to_image = np.repeat(np.arange(20), 3)
    images = random.normal(size=(20, 6))
    captions = images[caption_to_image] + random.normal(size=(60, 6))
    whole = semantic_r_precision(images, captions, caption_to_image, texts, chunk_size=1000)
    assert semantic_r_precision(images, captions, caption_to_image, texts, chunk_size=7) == whole


def test_text_count_mismatch_is_named():
    images = np.eye(4)
    with pytest.raises(ValueError, match=r"image 2 has 2 caption rows"):
        semantic_r_precision(
            images,
            np.eye(4)[CAPTION_TO_IMAGE],
            CAPTION_TO_IMAGE,
            CAPTIONS[:2] + [["x"], CAPTIONS[3]],
        )


def test_default_threshold_admits_few_other_flickr_images(flickr8k_sample_dir):
    captions_by_name: dict[str, list[str]] = {}
    for line in (
        (flickr8k_sample_dir / "Flickr8k.token.txt").read_text(encoding="utf-8").splitlines()
    ):
        name, caption = line.split("\t")
        captions_by_name.setdefault(name.split("#")[0], []).append(caption)
    texts = list(captions_by_name.values())
    caption_to_image = np.repeat(np.arange(len(texts)), [len(t) for t in texts])
    relevance = caption_image_relevance(caption_to_image, texts)
    other_images = relevance.sum() - len(caption_to_image)
    # The module docstring's claim: well under 1% of (caption, other image) pairs are related.
    rate = other_images / (len(caption_to_image) * (len(texts) - 1))
    assert 0 < rate < 0.003
