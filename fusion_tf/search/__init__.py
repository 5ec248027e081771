"""Nearest-neighbour search over embeddings: FAISS indexes and the cached gallery and caption indexes."""

from fusion_tf.search.caption_index import CaptionHit, CaptionIndex
from fusion_tf.search.embedding_index import EmbeddingIndex, SearchResults
from fusion_tf.search.gallery_index import GalleryIndex, GalleryReport, ImageHit

__all__ = [
    "CaptionHit",
    "CaptionIndex",
    "EmbeddingIndex",
    "GalleryIndex",
    "GalleryReport",
    "ImageHit",
    "SearchResults",
]
