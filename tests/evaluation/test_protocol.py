"""Tests for the Flickr 1k, COCO 1k (five folds), COCO 5k and "all" protocols."""

import numpy as np
import pytest

from fusion_tf.evaluation.protocol import evaluate_protocol
from fusion_tf.evaluation.recall import recall_at_k


def test_coco_1k_averages_five_folds_of_1000_images(noisy_embeddings):
    images, captions, caption_to_image = noisy_embeddings(5000, 1, noise=0.8)
    metrics = evaluate_protocol(images, captions, caption_to_image, "coco_1k")
    folds = [
        recall_at_k(
            images[start : start + 1000],
            captions[start : start + 1000],
            caption_to_image[start : start + 1000] - start,
        )
        for start in range(0, 5000, 1000)
    ]
    for key, value in metrics.items():
        assert value == pytest.approx(np.mean([fold[key] for fold in folds])), key
    # A 1000-image gallery is easier than the 5000-image one.
    assert (
        metrics["t2i_r1"]
        > evaluate_protocol(images, captions, caption_to_image, "coco_5k")["t2i_r1"]
    )


def test_coco_1k_folds_keep_captions_with_their_images_in_any_order(noisy_embeddings):
    images, captions, caption_to_image = noisy_embeddings(50, 5, noise=1.5, seed=1)
    shuffled = np.random.default_rng(2).permutation(len(caption_to_image))
    metrics = evaluate_protocol(
        images, captions[shuffled], caption_to_image[shuffled], "coco_1k", check_size=False
    )
    folds = []
    for start in range(0, 50, 10):
        own = (caption_to_image >= start) & (caption_to_image < start + 10)
        folds.append(
            recall_at_k(images[start : start + 10], captions[own], caption_to_image[own] - start)
        )
    for key, value in metrics.items():
        assert value == pytest.approx(np.mean([fold[key] for fold in folds])), key


def test_other_captions_are_not_in_a_folds_gallery():
    # Each fold's images repeat the first fold's, shifted slightly; a caption of fold 0 would
    # often prefer a twin in another fold if all folds were searched together.
    random = np.random.default_rng(4)
    base = random.normal(size=(10, 8))
    images = np.concatenate([base + 0.01 * random.normal(size=base.shape) for _ in range(5)])
    caption_to_image = np.arange(50)
    captions = images + 0.05 * random.normal(size=images.shape)
    folds = evaluate_protocol(images, captions, caption_to_image, "coco_1k", check_size=False)
    together = evaluate_protocol(images, captions, caption_to_image, "all")
    assert folds["t2i_r1"] == 100.0
    assert together["t2i_r1"] < 100.0


@pytest.mark.parametrize("protocol", ["flickr_1k", "coco_5k", "coco_1k"])
def test_wrong_image_count_is_an_error_unless_allowed(protocol, noisy_embeddings):
    images, captions, caption_to_image = noisy_embeddings(40, 2)
    with pytest.raises(ValueError, match=f"{protocol}.*expects .* got 40"):
        evaluate_protocol(images, captions, caption_to_image, protocol)
    metrics = evaluate_protocol(images, captions, caption_to_image, protocol, check_size=False)
    assert set(metrics) >= {"i2t_r1", "t2i_r10", "rsum"}


def test_flickr_1k_and_all_equal_recall_at_k(noisy_embeddings):
    images, captions, caption_to_image = noisy_embeddings(1000, 5, noise=1.5)
    expected = recall_at_k(images, captions, caption_to_image)
    assert evaluate_protocol(images, captions, caption_to_image, "flickr_1k") == expected
    assert evaluate_protocol(images, captions, caption_to_image, "all") == expected


def test_unknown_protocol_is_named(noisy_embeddings):
    images, captions, caption_to_image = noisy_embeddings(10, 1)
    with pytest.raises(ValueError, match="unknown protocol 'coco_2k'"):
        evaluate_protocol(images, captions, caption_to_image, "coco_2k")
