"""VSE++'s max-violation triplet loss (Faghri et al. 2018) over the photos and captions of a batch."""

import tensorflow as tf

from fusion_tf.losses.cross_modal_pairs import CrossModalPairs


def hard_negative_loss(pairs: CrossModalPairs, margin: float = 0.2) -> tf.Tensor:
    """Hinge on the hardest negative, both ways, averaged over the global batch's positive pairs.

    For a positive pair (p, c): `[margin - cos(p, c) + max_{c' negative for p} cos(p, c')]_+`
    `+ [margin - cos(p, c) + max_{p' negative for c} cos(p', c)]_+`, VSE++'s max-violation loss
    (vsepp's `ContrastiveLoss(max_violation=True)`). Other positives of a photo or caption (its
    other captions, its flipped copy) are never taken as its negatives. VSE++ sums over the
    batch; the mean keeps the scale independent of the batch size.
    """
    total = 0.0
    for direction in pairs.directions:
        # Cosines lie in [-1, 1]: -2 is below every negative, and a row without one adds nothing.
        hardest = tf.reduce_max(
            tf.where(direction.positives, -2.0 - margin, direction.similarities),
            axis=1,
            keepdims=True,
        )
        violations = tf.nn.relu(margin - direction.similarities + hardest)
        total += tf.reduce_sum(tf.where(direction.positives, violations, 0.0))
    return total / pairs.positive_pairs
