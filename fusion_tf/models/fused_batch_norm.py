"""Keras batch normalisation computed by TensorFlow's fused kernel: the same layer, fewer passes."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="fusion_tf")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` over the channels of NHWC tensors, in one fused op.

    Keras 3 normalises with separate moment, subtract, scale and add ops, each a full pass over
    the activations, forward and backward; TensorFlow's `FusedBatchNormV3` (what facenet's slim
    graph used) does it in one pass each way. Same variables, same saved weights and the same
    update rule for the moving statistics as the Keras layer, so checkpoints load in either;
    anything the fused kernel cannot do (masks, renorm, another axis or rank) falls back to the
    Keras implementation.

    Args:
        **kwargs: `keras.layers.BatchNormalization` arguments.
    """

    def _fusable(self, inputs, mask) -> bool:
        return (
            mask is None
            and not self.renorm
            and not self.synchronized
            and len(inputs.shape) == 4
            and self.axis in (-1, 3, [3], [-1])
            and inputs.shape[-1] is not None
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        channels = inputs.shape[-1]
        # The kernel reads float16/bfloat16 activations and keeps its statistics in float32,
        # the precision Keras upcasts to.
        if inputs.dtype not in (tf.float16, tf.bfloat16, tf.float32):
            inputs = tf.cast(inputs, tf.float32)
        scale = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels])
        offset = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels])
        if training and self.trainable:
            outputs, mean, corrected_variance = tf.compat.v1.nn.fused_batch_norm(
                inputs, scale, offset, epsilon=self.epsilon, is_training=True
            )
            # The kernel returns the Bessel-corrected variance; Keras averages the biased one.
            count = tf.cast(tf.size(inputs) // channels, tf.float32)
            variance = corrected_variance * tf.maximum(count - 1.0, 0.0) / count
            momentum = self.momentum
            self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
            self.moving_variance.assign(
                self.moving_variance * momentum + variance * (1.0 - momentum)
            )
        else:
            outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
                inputs,
                scale,
                offset,
                mean=tf.cast(self.moving_mean, tf.float32),
                variance=tf.cast(self.moving_variance, tf.float32),
                epsilon=self.epsilon,
                is_training=False,
            )
        return tf.cast(outputs, self.compute_dtype)
