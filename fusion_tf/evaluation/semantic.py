"""Semantic R-precision and precision@K: a retrieved item counts when its captions say what the query's do.

The paper (section 5.3) notes that Recall@K scores a semantically right result as a miss whenever
it is not the one annotated pair. Here relevance is decided from the caption texts alone, without
any model:

* A caption's content words are its tokens (fusion_tf.text.tokenize) minus STOP_WORDS, a short
  list of articles, prepositions, pronouns and auxiliaries; colours, numbers, nouns and verbs stay.
* A caption c and an image b are related when some caption of b has content-word Jaccard
  |A & B| / |A | B| >= threshold with c. A caption is always related to its own image.
* Text to image: for query caption c, image b is relevant iff c and b are related.
  Image to text: for query image a, caption c is relevant iff c and a are related.
  Both directions read the same (caption, image) relation.

Default threshold 0.5 (at least half of the two captions' combined content words shared), measured
on the 7000 Flickr8k train+dev images: for 21% of captions another caption of the same photo
reaches it, while the best caption of a random other photo reaches it for 0.07% of captions, i.e.
under one extra relevant image per query in a 1000-image test set. At 0.3 the random rate is 0.6%
and admits pairs such as "black and white dog wades in water" / "three people and a black and
white dog in bright industrial corridor"; pairs at 0.5 read like the same scene ("two dogs running
on grass" / "two dogs running around"). Jaccard on words ignores word order and synonyms, so the
measure is a lower bound on semantic correctness that complements Recall@K, not a replacement.

Metrics (percent, mean over queries): R-precision, the fraction of relevant items among the top R
where R is the query's number of relevant items; precision@K, the fraction among the top K. Scoring
and normalisation are as in fusion_tf.evaluation.recall. Equal scores are ordered by lower gallery
index; which of several items tied exactly at the cut-off enters the top list is reproducible but
unspecified (real-valued embeddings essentially never tie).
"""

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse

from fusion_tf.evaluation.captions import (
    caption_texts_in_row_order,
    check_caption_to_image,
    group_captions_by_image,
)
from fusion_tf.evaluation.similarity import (
    check_chunk_size,
    normalized_pair,
    similarity_chunks,
)
from fusion_tf.text import tokenize

DEFAULT_THRESHOLD = 0.5
# Smaller than recall's default: a chunk also holds a dense (chunk, captions) Jaccard matrix.
SEMANTIC_CHUNK_SIZE = 256
# fmt: off
STOP_WORDS = frozenset([
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "am", "of", "in", "on",
    "at", "to", "into", "onto", "with", "and", "or", "for", "from", "by", "as", "his", "her",
    "their", "its", "it", "this", "that", "these", "those", "there", "who", "which", "while",
    "has", "have", "had",
])
# fmt: on


def content_words(caption: str, tokenizer: Callable[[str], list[str]] = tokenize) -> frozenset[str]:
    """The set of a caption's tokens that are not STOP_WORDS."""
    return frozenset(word for word in tokenizer(caption) if word not in STOP_WORDS)


def caption_image_relevance(
    caption_to_image: np.ndarray,
    captions_per_image_texts: Sequence[Sequence[str]],
    threshold: float = DEFAULT_THRESHOLD,
    chunk_size: int = SEMANTIC_CHUNK_SIZE,
    tokenizer: Callable[[str], list[str]] = tokenize,
) -> scipy.sparse.csr_matrix:
    """(num_captions, num_images) boolean matrix: True where caption and image are related.

    Args:
        caption_to_image: (num_captions,) ints, as in recall_at_k.
        captions_per_image_texts: per image, its caption texts; the j-th text of image i belongs
            to the j-th row of caption_to_image equal to i.
        threshold: minimum content-word Jaccard with some caption of the image, in (0, 1].
        chunk_size: captions compared with all others at once.
        tokenizer: text to lower-case words. Defaults to fusion_tf.text.tokenize.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    chunk_size = check_chunk_size(chunk_size)
    texts = caption_texts_in_row_order(caption_to_image, captions_per_image_texts)
    num_images = len(captions_per_image_texts)
    caption_to_image = np.asarray(caption_to_image, dtype=np.int64)
    captions_by_image, group_starts = group_captions_by_image(caption_to_image, num_images)

    vocabulary: dict[str, int] = {}
    word_rows, word_columns = [], []
    for row, text in enumerate(texts):
        for word in content_words(text, tokenizer):
            word_rows.append(row)
            word_columns.append(vocabulary.setdefault(word, len(vocabulary)))
    words = scipy.sparse.csr_matrix(
        (np.ones(len(word_rows), dtype=np.float32), (word_rows, word_columns)),
        shape=(len(texts), max(len(vocabulary), 1)),
    )
    words_transposed = words.T.tocsc()
    set_sizes = np.asarray(words.sum(axis=1), dtype=np.float32)[:, 0]

    related_rows, related_columns = [], []
    for start in range(0, len(texts), chunk_size):
        stop = min(start + chunk_size, len(texts))
        intersections = (words[start:stop] @ words_transposed).toarray()
        unions = set_sizes[start:stop, None] + set_sizes[None, :] - intersections
        # Two captions without content words share nothing: their Jaccard is 0, not 0/0.
        jaccard = np.divide(
            intersections, unions, out=np.zeros_like(intersections), where=unions > 0
        )
        best_per_image = np.maximum.reduceat(
            jaccard[:, captions_by_image], group_starts[:-1], axis=1
        )
        related = best_per_image >= threshold
        related[np.arange(stop - start), caption_to_image[start:stop]] = True
        rows, columns = np.nonzero(related)
        related_rows.append(rows + start)
        related_columns.append(columns)
    rows, columns = np.concatenate(related_rows), np.concatenate(related_columns)
    return scipy.sparse.csr_matrix(
        (np.ones(len(rows), dtype=bool), (rows, columns)), shape=(len(texts), num_images)
    )


def _chunk_precisions(
    similarities: np.ndarray, relevant: np.ndarray, ks: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Per query row: (R-precision, precision@K for each K as columns), fractions in [0, 1]."""
    num_relevant = relevant.sum(axis=1)
    depth = min(max(int(num_relevant.max()), max(ks)), similarities.shape[1])
    candidates = np.argpartition(-similarities, depth - 1, axis=1)[:, :depth]
    candidate_scores = np.take_along_axis(similarities, candidates, axis=1)
    # lexsort sorts by its last key first: score descending, then gallery index ascending.
    order = np.lexsort((candidates, -candidate_scores), axis=1)
    ranked = np.take_along_axis(candidates, order, axis=1)
    hits_so_far = np.cumsum(np.take_along_axis(relevant, ranked, axis=1), axis=1)
    r_precision = hits_so_far[np.arange(len(ranked)), num_relevant - 1] / num_relevant
    precision_at_k = np.stack([hits_so_far[:, min(k, depth) - 1] / k for k in ks], axis=1)
    return r_precision, precision_at_k


def semantic_r_precision(
    image_embeddings: np.ndarray,
    caption_embeddings: np.ndarray,
    caption_to_image: np.ndarray,
    captions_per_image_texts: Sequence[Sequence[str]],
    threshold: float = DEFAULT_THRESHOLD,
    ks: Sequence[int] = (1, 5, 10),
    chunk_size: int = SEMANTIC_CHUNK_SIZE,
    tokenizer: Callable[[str], list[str]] = tokenize,
) -> dict[str, float]:
    """Semantic R-precision and precision@K both ways (percent); see the module docstring.

    Args:
        image_embeddings, caption_embeddings, caption_to_image: as recall_at_k.
        captions_per_image_texts, threshold, tokenizer: as caption_image_relevance.
        ks: cut-offs for precision@K.
        chunk_size: queries scored at once.

    Returns:
        {"i2t_r_precision", "t2i_r_precision", "i2t_precision_at_{K}", "t2i_precision_at_{K}"
        for each K, "i2t_mean_relevant", "t2i_mean_relevant"}; the last two are the mean number
        of relevant items per query, which shows how permissive the threshold is.
    """
    ks = tuple(int(k) for k in ks)
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be positive integers, got {ks}")
    images, captions = normalized_pair(image_embeddings, caption_embeddings)
    caption_to_image = check_caption_to_image(caption_to_image, len(images), len(captions))
    if len(captions_per_image_texts) != len(images):
        raise ValueError(
            f"captions_per_image_texts covers {len(captions_per_image_texts)} images, "
            f"image_embeddings has {len(images)}"
        )
    relevance = caption_image_relevance(
        caption_to_image, captions_per_image_texts, threshold, chunk_size, tokenizer
    )

    metrics: dict[str, float] = {}
    for direction, queries, gallery, query_relevance in (
        ("i2t", images, captions, relevance.T.tocsr()),
        ("t2i", captions, images, relevance),
    ):
        r_precisions, precisions_at_k = [], []
        for start, similarities in similarity_chunks(queries, gallery, chunk_size):
            relevant = query_relevance[start : start + len(similarities)].toarray()
            r_precision, precision_at_k = _chunk_precisions(similarities, relevant, ks)
            r_precisions.append(r_precision)
            precisions_at_k.append(precision_at_k)
        metrics[f"{direction}_r_precision"] = 100.0 * float(np.concatenate(r_precisions).mean())
        precision_at_k = np.concatenate(precisions_at_k).mean(axis=0)
        for k, value in zip(ks, precision_at_k, strict=True):
            metrics[f"{direction}_precision_at_{k}"] = 100.0 * float(value)
        metrics[f"{direction}_mean_relevant"] = float(query_relevance.sum() / len(queries))
    return metrics
