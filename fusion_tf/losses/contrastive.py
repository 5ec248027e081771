"""Symmetric InfoNCE between photos and captions with a learned temperature (CLIP, CLIPPO)."""

import math

import keras
import tensorflow as tf

from fusion_tf.losses.cross_modal_pairs import CrossModalPairs

# A logit far below any real one; -inf would make a row with no negatives NaN in logsumexp.
_EXCLUDED = -1e9


@keras.saving.register_keras_serializable(package="fusion_tf")
class ContrastiveLoss(keras.layers.Layer):
    """Multi-positive InfoNCE over the global batch, both ways, with a learned temperature.

    A photo has several captions in a batch (five, ten in config-2) and a caption one or two
    photos (the flipped copy in config-2). Every positive pair (p, c) is one term, scored against
    its query's negatives only: the other positives of the query are excluded from the
    denominator, so a caption of the same image is never pushed away as a negative:

        term(p, c) = -log( exp(s * cos(p, c)) / (exp(s * cos(p, c)) + sum_{k negative for p} exp(s * cos(p, k))) )

    The loss is the mean of the photo-to-caption terms and of the caption-to-photo terms, each
    averaged over the positive pairs of the global batch. `s = exp(logit_scale)`, learned as in
    CLIP (Radford et al. 2021) and clipped at 100.

    Args:
        temperature: float. Initial temperature, 1 / s. Defaults to 0.07 (CLIP).
        learn_temperature: bool. Whether the temperature is trained. Defaults to True.
        max_scale: float. Upper bound on s. Defaults to 100.
        **kwargs: Standard `keras.layers.Layer` arguments.
    """

    def __init__(
        self,
        temperature: float = 0.07,
        learn_temperature: bool = True,
        max_scale: float = 100.0,
        **kwargs,
    ):
        if temperature <= 0 or max_scale <= 0:
            raise ValueError(
                f"ContrastiveLoss needs a positive temperature and max_scale, got "
                f"{temperature} and {max_scale}"
            )
        kwargs.setdefault("dtype", "float32")  # logits stay float32 under mixed precision
        super().__init__(**kwargs)
        self.temperature = temperature
        self.learn_temperature = learn_temperature
        self.max_scale = max_scale
        self.logit_scale = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(math.log(1.0 / temperature)),
            dtype="float32",
            trainable=learn_temperature,
            autocast=False,
            name="logit_scale",
        )

    @property
    def scale(self) -> tf.Tensor:
        return tf.minimum(tf.exp(self.logit_scale), self.max_scale)

    def call(self, pairs: CrossModalPairs) -> tf.Tensor:
        scale = self.scale
        total = 0.0
        for direction in pairs.directions:
            logits = scale * direction.similarities
            negatives = tf.reduce_logsumexp(
                tf.where(direction.positives, _EXCLUDED, logits), axis=1, keepdims=True
            )
            # -log(e^l / (e^l + e^N)) = softplus(N - l), for every positive pair of the row.
            terms = tf.nn.softplus(negatives - logits)
            total += tf.reduce_sum(tf.where(direction.positives, terms, 0.0))
        return 0.5 * total / pairs.positive_pairs

    def get_config(self):
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "learn_temperature": self.learn_temperature,
            "max_scale": self.max_scale,
        }
