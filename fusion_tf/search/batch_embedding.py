"""Embedding a stream of items through a user callable in batches, checking what it returns."""

import itertools
from collections.abc import Callable, Iterable

import numpy as np


def embed_in_batches(
    items: Iterable,
    embed_fn: Callable,
    batch_size: int,
    dimension: int,
    describe: Callable[[int], str],
) -> np.ndarray:
    """Calls embed_fn on consecutive batches; each must return (batch, dimension) finite numbers.

    items is consumed lazily, one batch at a time, so a generator keeps only one batch of (say)
    encoded images in memory. describe(i) names item i in error messages. Returns float32.
    """
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    parts, start, iterator = [], 0, iter(items)
    while batch := list(itertools.islice(iterator, batch_size)):
        embeddings = np.asarray(embed_fn(batch))
        if embeddings.shape != (len(batch), dimension):
            raise ValueError(
                f"embed_fn returned shape {embeddings.shape} for {len(batch)} items "
                f"({describe(start)} ...); expected ({len(batch)}, {dimension})"
            )
        finite_rows = np.isfinite(embeddings).all(axis=1)
        if not finite_rows.all():
            raise ValueError(
                f"embed_fn returned NaN or infinity for {describe(start + int(np.argmin(finite_rows)))}"
            )
        parts.append(embeddings.astype(np.float32))
        start += len(batch)
    return np.concatenate(parts) if parts else np.empty((0, dimension), dtype=np.float32)
