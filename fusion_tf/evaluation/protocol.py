"""The published test protocols: Flickr 1k, COCO 1k (five folds) and COCO 5k, plus "all" for any size."""

from collections.abc import Sequence

import numpy as np

from fusion_tf.evaluation.captions import check_caption_to_image
from fusion_tf.evaluation.recall import recall_at_k
from fusion_tf.evaluation.similarity import DEFAULT_CHUNK_SIZE

# Number of test images each protocol expects; None accepts any number.
PROTOCOL_IMAGES = {"flickr_1k": 1000, "coco_1k": 5000, "coco_5k": 5000, "all": None}
PROTOCOLS = tuple(PROTOCOL_IMAGES)  # the choices of every --protocol flag
COCO_FOLDS = 5


def evaluate_protocol(
    image_embeddings: np.ndarray,
    caption_embeddings: np.ndarray,
    caption_to_image: np.ndarray,
    protocol: str,
    ks: Sequence[int] = (1, 5, 10),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    check_size: bool = True,
) -> dict[str, float]:
    """Recall@K metrics (keys as recall_at_k) under one of the protocols in PROTOCOL_IMAGES.

    * "flickr_1k": all 1000 Flickr8k/Flickr30k test images, each against all test captions.
    * "coco_5k": all 5000 COCO test images at once.
    * "coco_1k": the 5000 COCO test images cut into 5 consecutive folds of 1000, each fold scored
      with only its own images and their captions; every metric (rsum and ranks included) is the
      mean over folds, as vsepp's fold5 evaluation reports it.
    * "all": whatever images are given, at once (for small test sets).

    Args:
        image_embeddings, caption_embeddings, caption_to_image, ks, chunk_size: as recall_at_k.
        protocol: one of PROTOCOL_IMAGES.
        check_size: raise ValueError when the image count differs from the protocol's. With False,
            a different count is accepted and "coco_1k" cuts it into 5 near-equal folds.
    """
    if protocol not in PROTOCOL_IMAGES:
        raise ValueError(
            f"unknown protocol {protocol!r}; expected one of {sorted(PROTOCOL_IMAGES)}"
        )
    num_images = len(image_embeddings)
    expected_images = PROTOCOL_IMAGES[protocol]
    if check_size and expected_images is not None and num_images != expected_images:
        raise ValueError(
            f"protocol {protocol!r} expects {expected_images} test images, got {num_images}; "
            "pass check_size=False to evaluate anyway"
        )
    if protocol != "coco_1k":
        return recall_at_k(image_embeddings, caption_embeddings, caption_to_image, ks, chunk_size)

    if num_images < COCO_FOLDS:
        raise ValueError(
            f"coco_1k needs at least {COCO_FOLDS} images for its folds, got {num_images}"
        )
    image_embeddings = np.asarray(image_embeddings)
    caption_embeddings = np.asarray(caption_embeddings)
    caption_to_image = check_caption_to_image(caption_to_image, num_images, len(caption_embeddings))
    fold_results = []
    for fold_images in np.array_split(np.arange(num_images), COCO_FOLDS):
        fold_start, fold_stop = fold_images[0], fold_images[-1] + 1
        fold_captions = np.flatnonzero(
            (caption_to_image >= fold_start) & (caption_to_image < fold_stop)
        )
        fold_results.append(
            recall_at_k(
                image_embeddings[fold_start:fold_stop],
                caption_embeddings[fold_captions],
                caption_to_image[fold_captions] - fold_start,
                ks,
                chunk_size,
            )
        )
    return {
        key: float(np.mean([result[key] for result in fold_results])) for key in fold_results[0]
    }
