"""A searchable index of captions read from a text file, one per line, for image-to-caption search."""

import dataclasses
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fusion_tf.evaluation.contact_sheet import SheetCell
from fusion_tf.search.batch_embedding import embed_in_batches
from fusion_tf.search.embedding_index import EmbeddingIndex
from fusion_tf.search.index_cache import CACHE_DIR_NAME, cached_or_built_index

TextEmbedFn = Callable[[list[str]], np.ndarray]


@dataclasses.dataclass(frozen=True)
class CaptionHit:
    """One caption found for a query: text: str; line_number: int (1-based); score: float."""

    text: str
    line_number: int
    score: float

    def sheet_cell(self) -> SheetCell:
        return SheetCell(text=self.text, score=self.score)


def parse_captions(content: bytes, source: str) -> tuple[list[str], list[int]]:
    """(stripped non-blank lines, their 1-based line numbers); invalid UTF-8 raises naming source:line."""
    captions, line_numbers = [], []
    for line_number, raw_line in enumerate(content.splitlines(), start=1):
        try:
            text = raw_line.decode("utf-8").strip()
        except UnicodeDecodeError as error:
            raise ValueError(f"{source}:{line_number}: not valid UTF-8 ({error})") from None
        if text:
            captions.append(text)
            line_numbers.append(line_number)
    return captions, line_numbers


class CaptionIndex:
    """Caption search; build with CaptionIndex.build_or_load.

    Args:
        captions: list[str]. Indexed captions, in index row order.
        line_numbers: list[int]. Each caption's 1-based line in the source file.
        index: EmbeddingIndex. Their embeddings.
        rebuilt: bool. True when captions were embedded now, False when the cache was reused.
    """

    def __init__(
        self, captions: list[str], line_numbers: list[int], index: EmbeddingIndex, rebuilt: bool
    ):
        self.captions = captions
        self.line_numbers = line_numbers
        self.index = index
        self.rebuilt = rebuilt

    @classmethod
    def build_or_load(
        cls,
        captions_path: str | os.PathLike,
        embed_fn: TextEmbedFn,
        cache_dir: str | os.PathLike | None = None,
        embedder_id: str = "",
        batch_size: int = 256,
        **index_options,
    ) -> "CaptionIndex":
        """Loads the cached index if the file's content is unchanged, else embeds every caption.

        Blank lines are skipped; surrounding whitespace is stripped. The cache is keyed by the
        file's SHA-256, embedder_id and index_options.

        Args:
            captions_path: UTF-8 text file, one caption per line.
            embed_fn: list of captions -> (n, dimension) float32 embeddings.
            cache_dir: where the index and manifest live. Defaults to
                <file's folder>/.fusion_index/<file name>.
            embedder_id: names the model behind embed_fn; changing it invalidates the cache.
            batch_size: captions per embed_fn call.
            **index_options: EmbeddingIndex arguments (dimension, kind, ef_search, ...).
        """
        captions_path = Path(captions_path)
        if not captions_path.is_file():
            raise FileNotFoundError(f"captions file {captions_path} does not exist")
        if cache_dir is None:
            cache_dir = captions_path.parent / CACHE_DIR_NAME / captions_path.name
        index = EmbeddingIndex(**index_options)
        content = captions_path.read_bytes()
        key = {"sha256": hashlib.sha256(content).hexdigest(), "embedder_id": embedder_id}
        captions, line_numbers = parse_captions(content, str(captions_path))

        def embed():
            embeddings = embed_in_batches(
                captions,
                embed_fn,
                batch_size,
                index.dimension,
                describe=lambda i: f"{captions_path}:{line_numbers[i]}",
            )
            return embeddings, {"num_captions": len(captions)}

        index, _, rebuilt = cached_or_built_index(cache_dir, key, index, embed)
        return cls(captions, line_numbers, index, rebuilt)

    def __len__(self) -> int:
        return len(self.captions)

    def search(self, query_embeddings: np.ndarray, k: int = 5) -> list[list[CaptionHit]]:
        """The k most similar captions per query embedding, best first."""
        results = self.index.search(query_embeddings, k)
        return [
            [CaptionHit(self.captions[row], self.line_numbers[row], score) for row, score in hits]
            for hits in results.hits()
        ]
