"""Similarity between L2-normalised embeddings, computed one chunk of queries at a time.

The paper retrieves by Euclidean nearest neighbour on L2-normalised embeddings. For unit vectors
``||q - g||^2 = 2 - 2 q.g``, so negative Euclidean distance and the inner product (cosine) order
any gallery identically; every function here scores by the inner product, which is one matrix
product and needs no square root.
"""

from collections.abc import Iterator

import numpy as np

DEFAULT_CHUNK_SIZE = 512


def l2_normalize(embeddings: np.ndarray, name: str = "embeddings") -> np.ndarray:
    """Returns float32 rows scaled to unit length; rejects non-2-D, non-finite or all-zero rows."""
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (count, dimension) array, got shape {embeddings.shape}"
        )
    if not np.issubdtype(embeddings.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {embeddings.dtype}")
    embeddings = embeddings.astype(np.float32, copy=False)
    finite_rows = np.isfinite(embeddings).all(axis=1)
    if not finite_rows.all():
        raise ValueError(f"{name} row {int(np.argmin(finite_rows))} holds NaN or infinity")
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError(
            f"{name} row {int(np.argmin(norms[:, 0]))} is all zeros: it has no direction"
        )
    return embeddings / norms


def normalized_pair(
    image_embeddings: np.ndarray, caption_embeddings: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Both sets L2-normalised, checked to share one dimension."""
    images = l2_normalize(image_embeddings, "image_embeddings")
    captions = l2_normalize(caption_embeddings, "caption_embeddings")
    if images.shape[1] != captions.shape[1]:
        raise ValueError(
            f"image embeddings have dimension {images.shape[1]}, captions {captions.shape[1]}"
        )
    return images, captions


def check_chunk_size(chunk_size: int) -> int:
    """Returns chunk_size if it is a positive integer, else raises ValueError."""
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int | np.integer)
        or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return int(chunk_size)


def similarity_chunks(
    queries: np.ndarray, gallery: np.ndarray, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[tuple[int, np.ndarray]]:
    """Yields (first query row, (rows, gallery size) inner products) for consecutive query chunks.

    Only one chunk's similarity matrix exists at a time, so memory is O(chunk_size * len(gallery)).
    Both inputs must already be L2-normalised float32 (see l2_normalize).
    """
    chunk_size = check_chunk_size(chunk_size)
    gallery_transposed = gallery.T
    for start in range(0, len(queries), chunk_size):
        yield start, queries[start : start + chunk_size] @ gallery_transposed


def top_k(
    queries: np.ndarray, gallery: np.ndarray, k: int, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """The k most similar gallery rows per query, best first: (indices int64, scores float32).

    Inputs are L2-normalised here. A stable sort keeps the lower gallery index first among equal
    scores. It sorts whole rows, which suits evaluation-sized galleries; fusion_tf.search serves
    large ones.
    """
    queries = l2_normalize(queries, "queries")
    gallery = l2_normalize(gallery, "gallery")
    if queries.shape[1] != gallery.shape[1]:
        raise ValueError(
            f"queries have dimension {queries.shape[1]} but the gallery has {gallery.shape[1]}"
        )
    k = min(int(k), len(gallery))
    if k < 1:
        raise ValueError(f"k must be at least 1 and the gallery non-empty, got k={k}")
    indices = np.empty((len(queries), k), dtype=np.int64)
    scores = np.empty((len(queries), k), dtype=np.float32)
    for start, similarities in similarity_chunks(queries, gallery, chunk_size):
        order = np.argsort(-similarities, axis=1, kind="stable")[:, :k]
        stop = start + len(similarities)
        indices[start:stop] = order
        scores[start:stop] = np.take_along_axis(similarities, order, axis=1)
    return indices, scores
