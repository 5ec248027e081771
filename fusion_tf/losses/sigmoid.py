"""SigLIP's pairwise sigmoid loss between photos and captions, with a learned scale and bias."""

import math

import keras
import tensorflow as tf

from fusion_tf.losses.cross_modal_pairs import CrossModalPairs


def batch_log_odds(images_per_batch: int) -> float:
    """The log odds of a positive pair in a global batch of that many images: -log(images - 1).

    Each photo view meets every caption view of the batch, and the caption views of its own
    image are its positives, so one pair in `images_per_batch` is positive whatever the views
    per image. One image alone has no negatives, and gets 0.
    """
    if images_per_batch < 1:
        raise ValueError(f"a batch needs at least one image, got {images_per_batch}")
    return -math.log(max(images_per_batch - 1, 1))


@keras.saving.register_keras_serializable(package="fusion_tf")
class SigmoidLoss(keras.layers.Layer):
    """Every photo-caption pair of the global batch as its own binary decision (Zhai et al. 2023).

    A pair (p, c) is positive when both show the same image (every caption and flip of an image,
    as the contrastive loss counts them) and negative otherwise:

        term(p, c) = log(1 + exp(-z * (s * cos(p, c) + b))),  z = +1 for a positive, -1 else

    No softmax over the batch normalises a row, so no term depends on how many other captions a
    batch holds; Zhai et al. found it ahead of InfoNCE at small batches. The loss sums the terms of
    all pairs once (the photo-to-caption side; the other side is the same pairs) and divides by
    the global batch's positive pairs, SigLIP's division by the batch size when each photo has
    one caption. `s = exp(logit_scale)`, clipped at `max_scale`, and the bias `b` start at
    SigLIP's 10 and -10: the many negatives then begin near zero loss, and the few positives
    carry the first gradients. SigLIP's -10 is `batch_log_odds` of its batch of 32k; in a batch
    of 45 images it is -3.8, and from -10 the CPU recipe did not learn where -4 did (RESULTS.md),
    so the trainer starts from the batch's own log odds unless told otherwise.

    Args:
        scale: float. Initial s. Defaults to 10 (SigLIP).
        bias: float. Initial b. Defaults to -10 (SigLIP).
        learn_scale_and_bias: bool. Whether s and b are trained. Defaults to True.
        max_scale: float. Upper bound on s. Defaults to 100.
        **kwargs: Standard `keras.layers.Layer` arguments.
    """

    def __init__(
        self,
        scale: float = 10.0,
        bias: float = -10.0,
        learn_scale_and_bias: bool = True,
        max_scale: float = 100.0,
        **kwargs,
    ):
        if scale <= 0 or max_scale <= 0:
            raise ValueError(
                f"SigmoidLoss needs a positive scale and max_scale, got {scale} and {max_scale}"
            )
        kwargs.setdefault("dtype", "float32")  # logits stay float32 under mixed precision
        super().__init__(**kwargs)
        self.initial_scale = scale
        self.initial_bias = bias
        self.learn_scale_and_bias = learn_scale_and_bias
        self.max_scale = max_scale
        self.logit_scale = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(math.log(scale)),
            dtype="float32",
            trainable=learn_scale_and_bias,
            autocast=False,
            name="logit_scale",
        )
        self.logit_bias = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(bias),
            dtype="float32",
            trainable=learn_scale_and_bias,
            autocast=False,
            name="logit_bias",
        )

    @property
    def scale(self) -> tf.Tensor:
        return tf.minimum(tf.exp(self.logit_scale), self.max_scale)

    def call(self, pairs: CrossModalPairs) -> tf.Tensor:
        direction = pairs.photo_to_caption
        logits = self.scale * direction.similarities + self.logit_bias
        signs = tf.where(direction.positives, 1.0, -1.0)
        # -log(sigmoid(z * l)) = softplus(-z * l)
        return tf.reduce_sum(tf.nn.softplus(-signs * logits)) / pairs.positive_pairs

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.initial_scale,
            "bias": self.initial_bias,
            "learn_scale_and_bias": self.learn_scale_and_bias,
            "max_scale": self.max_scale,
        }
