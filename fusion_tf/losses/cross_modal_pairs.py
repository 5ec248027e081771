"""The photo-caption similarities of a training batch, both ways, gathered across replicas.

The batch-wise objectives (contrastive, hard-negative) compare every photo with every caption of
the *global* batch. Under tf.distribute each replica holds a slice of it, so each replica gathers
the other replicas' embeddings (the gather passes gradients back to their owners) and scores its
own photos against all captions and its own captions against all photos. Summed over replicas,
each loss then equals the loss of one replica holding the whole batch.
"""

import dataclasses

import tensorflow as tf

from fusion_tf.modality import PHOTO


@dataclasses.dataclass(frozen=True)
class Direction:
    """One retrieval direction: local queries (rows) against the global batch's keys (columns).

    Attributes:
        similarities: (queries, keys) float32 cosine similarities.
        positives: (queries, keys) bool, True where query and key show the same image (class).
    """

    similarities: tf.Tensor
    positives: tf.Tensor


@dataclasses.dataclass(frozen=True)
class CrossModalPairs:
    """Photo-to-caption and caption-to-photo directions, and the global number of positive pairs."""

    photo_to_caption: Direction
    caption_to_photo: Direction
    positive_pairs: tf.Tensor  # float32 scalar, the same on every replica

    @property
    def directions(self) -> tuple[Direction, Direction]:
        return (self.photo_to_caption, self.caption_to_photo)


def _gather(values: tf.Tensor) -> tf.Tensor:
    """The values of every replica concatenated in replica order (the values alone on one replica)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_gather(values, axis=0)


def cross_modal_pairs(
    embeddings: tf.Tensor, labels: tf.Tensor, modality: tf.Tensor
) -> CrossModalPairs:
    """Splits a batch by modality and scores photos against captions of the global batch.

    Args:
        embeddings: (n, d) embeddings (prelogits); L2-normalised here, as retrieval does.
        labels: (n,) class of each sample: a photo and its captions share one.
        modality: (n,) PHOTO or CAPTION flag of each sample.
    """
    embeddings = tf.math.l2_normalize(tf.cast(embeddings, tf.float32), axis=-1)
    labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
    is_photo = tf.equal(tf.reshape(tf.cast(modality, tf.int32), [-1]), PHOTO)
    photos, photo_labels = tf.boolean_mask(embeddings, is_photo), tf.boolean_mask(labels, is_photo)
    captions = tf.boolean_mask(embeddings, ~is_photo)
    caption_labels = tf.boolean_mask(labels, ~is_photo)
    # Labels are gathered on their own: they carry no gradient.
    all_photos, all_captions = _gather(photos), _gather(captions)
    all_photo_labels, all_caption_labels = _gather(photo_labels), _gather(caption_labels)

    def direction(queries, query_labels, keys, key_labels):
        return Direction(
            similarities=tf.matmul(queries, keys, transpose_b=True),
            positives=tf.equal(query_labels[:, tf.newaxis], key_labels[tf.newaxis, :]),
        )

    positive_pairs = tf.reduce_sum(
        tf.cast(
            tf.equal(all_photo_labels[:, tf.newaxis], all_caption_labels[tf.newaxis, :]),
            tf.float32,
        )
    )
    return CrossModalPairs(
        photo_to_caption=direction(photos, photo_labels, all_captions, all_caption_labels),
        caption_to_photo=direction(captions, caption_labels, all_photos, all_photo_labels),
        positive_pairs=tf.maximum(positive_pairs, 1.0),
    )
