"""Retrieval metrics (Recall@K under the published protocols, semantic precision) and paper figures."""

from fusion_tf.evaluation.figures import plot_tsne, write_examples
from fusion_tf.evaluation.protocol import PROTOCOL_IMAGES, evaluate_protocol
from fusion_tf.evaluation.recall import recall_at_k, retrieval_ranks, summarize_ranks
from fusion_tf.evaluation.semantic import caption_image_relevance, semantic_r_precision

__all__ = [
    "PROTOCOL_IMAGES",
    "caption_image_relevance",
    "evaluate_protocol",
    "plot_tsne",
    "recall_at_k",
    "retrieval_ranks",
    "semantic_r_precision",
    "summarize_ranks",
    "write_examples",
]
