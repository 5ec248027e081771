"""Retrieval metrics (Recall@K under the published protocols, semantic precision) and paper figures.

The figures (`fusion_tf.evaluation.figures`: matplotlib, scikit-learn) are imported from their
module by whoever draws them, never here, so that training's validation loads neither.
"""

from fusion_tf.evaluation.protocol import PROTOCOL_IMAGES, PROTOCOLS, evaluate_protocol
from fusion_tf.evaluation.recall import recall_at_k, retrieval_ranks, summarize_ranks
from fusion_tf.evaluation.semantic import caption_image_relevance, semantic_r_precision

__all__ = [
    "PROTOCOLS",
    "PROTOCOL_IMAGES",
    "caption_image_relevance",
    "evaluate_protocol",
    "recall_at_k",
    "retrieval_ranks",
    "semantic_r_precision",
    "summarize_ranks",
]
