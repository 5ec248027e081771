"""The modality gap (Liang et al. 2022, "Mind the Gap"): how far apart photos and captions sit."""

import numpy as np

from fusion_tf.evaluation.similarity import normalized_pair


def modality_gap(image_embeddings: np.ndarray, caption_embeddings: np.ndarray) -> float:
    """Euclidean distance between the mean L2-normalised photo and the mean caption embedding.

    0 when both modalities share one centroid; at most 2 (all photos at one point of the unit
    sphere, all captions at its antipode). Liang et al. measure CLIP's at about 0.82.
    """
    images, captions = normalized_pair(image_embeddings, caption_embeddings)
    return float(np.linalg.norm(images.mean(axis=0) - captions.mean(axis=0)))
