"""Recall@K, median and mean rank for image-to-text and text-to-image retrieval, as vsepp scores them.

Definitions follow vsepp's evaluation.py (i2t / t2i), generalised to images with any number of
captions:

* image to text: each image queries ALL captions; its rank is the best (lowest) rank reached by
  any of its own captions.
* text to image: each caption queries all images; its rank is the rank of its own image.
* R@K is the percentage of queries whose rank is below K (zero-based); medr = floor(median) + 1
  and meanr = mean + 1 turn zero-based ranks into 1-based ones; rsum adds the R@K of both
  directions.

Similarity is the inner product of L2-normalised embeddings, which orders results exactly as
negative Euclidean distance does (see fusion_tf.evaluation.similarity). The inputs are
L2-normalised here, so raw network outputs can be passed.

Ranks are counts of gallery items scoring strictly higher than the ground truth, computed one chunk
of queries at a time: memory is O(chunk_size * gallery size) and the full query x gallery matrix
never exists unless chunk_size covers every query. Ties therefore resolve in the ground truth's
favour (optimistic): a ground truth tied with other items gets the best rank of the tie. vsepp's
argsort breaks ties by array order instead; with real-valued embeddings ties essentially never
occur, so the two agree.
"""

from collections.abc import Sequence

import numpy as np

from fusion_tf.evaluation.captions import check_caption_to_image, group_captions_by_image
from fusion_tf.evaluation.similarity import (
    DEFAULT_CHUNK_SIZE,
    check_chunk_size,
    normalized_pair,
    similarity_chunks,
)


def retrieval_ranks(
    image_embeddings: np.ndarray,
    caption_embeddings: np.ndarray,
    caption_to_image: np.ndarray,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> tuple[np.ndarray, np.ndarray]:
    """Zero-based ranks: (image-to-text rank per image, text-to-image rank per caption), int64."""
    images, captions = normalized_pair(image_embeddings, caption_embeddings)
    caption_to_image = check_caption_to_image(caption_to_image, len(images), len(captions))
    chunk_size = check_chunk_size(chunk_size)

    # Captions grouped by image, so a chunk of images finds its own captions by two lookups.
    captions_by_image, group_starts = group_captions_by_image(caption_to_image, len(images))

    image_ranks = np.empty(len(images), dtype=np.int64)
    for start, similarities in similarity_chunks(images, captions, chunk_size):
        stop = start + len(similarities)
        own_captions = captions_by_image[group_starts[start] : group_starts[stop]]
        rows = caption_to_image[own_captions] - start
        best_own = np.full(len(similarities), -np.inf, dtype=np.float32)
        np.maximum.at(best_own, rows, similarities[rows, own_captions])
        image_ranks[start:stop] = np.count_nonzero(similarities > best_own[:, None], axis=1)

    caption_ranks = np.empty(len(captions), dtype=np.int64)
    for start, similarities in similarity_chunks(captions, images, chunk_size):
        stop = start + len(similarities)
        own = similarities[np.arange(len(similarities)), caption_to_image[start:stop]]
        caption_ranks[start:stop] = np.count_nonzero(similarities > own[:, None], axis=1)
    return image_ranks, caption_ranks


def summarize_ranks(
    image_ranks: np.ndarray, caption_ranks: np.ndarray, ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """R@K (percent), rsum, medr and meanr (1-based) from zero-based ranks of both directions."""
    ks = tuple(int(k) for k in ks)
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be positive integers, got {ks}")
    metrics: dict[str, float] = {}
    for direction, ranks in (("i2t", image_ranks), ("t2i", caption_ranks)):
        for k in ks:
            metrics[f"{direction}_r{k}"] = 100.0 * float(np.mean(ranks < k))
    metrics["rsum"] = sum(metrics[f"{d}_r{k}"] for d in ("i2t", "t2i") for k in ks)
    for direction, ranks in (("i2t", image_ranks), ("t2i", caption_ranks)):
        metrics[f"{direction}_medr"] = float(np.floor(np.median(ranks)) + 1)
    for direction, ranks in (("i2t", image_ranks), ("t2i", caption_ranks)):
        metrics[f"{direction}_meanr"] = float(np.mean(ranks) + 1)
    return metrics


def recall_at_k(
    image_embeddings: np.ndarray,
    caption_embeddings: np.ndarray,
    caption_to_image: np.ndarray,
    ks: Sequence[int] = (1, 5, 10),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> dict[str, float]:
    """Recall@K both ways plus rsum, medr and meanr; see the module docstring for definitions.

    Args:
        image_embeddings: (num_images, dimension) array, one row per image.
        caption_embeddings: (num_captions, dimension) array, one row per caption.
        caption_to_image: (num_captions,) ints; caption i describes image caption_to_image[i].
            Images may have different numbers of captions, but each needs at least one.
        ks: cut-offs K; keys are i2t_r{K} and t2i_r{K} for each.
        chunk_size: queries scored at once; memory grows with chunk_size * gallery size.

    Returns:
        {"i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10", "rsum", "i2t_medr",
        "t2i_medr", "i2t_meanr", "t2i_meanr"} for the default ks.
    """
    image_ranks, caption_ranks = retrieval_ranks(
        image_embeddings, caption_embeddings, caption_to_image, chunk_size
    )
    return summarize_ranks(image_ranks, caption_ranks, ks)
