"""ScaledProjection: the Inception-ResNet residual branch's 1x1 projection with its scale folded in."""

import keras


@keras.saving.register_keras_serializable(package="fusion_tf")
class ScaledProjection(keras.layers.Conv2D):
    """A biased convolution whose output is multiplied by a constant: `scale * (conv(x, W) + b)`.

    Inception-ResNet scales each residual branch down (by 0.1 to 0.3) before adding it to its
    shortcut, which Szegedy et al. 2016 found necessary to keep wide residual stacks stable.
    The convolution is linear, so the layer computes `conv(x, scale * W) + scale * b` instead:
    the same outputs, the same variables and the same gradients for them (d/dW of both is
    `scale` times the convolution's kernel gradient), but the multiply runs on the kernel, not on
    an activation-sized tensor forward and backward, and nothing stands between the convolution
    and the shortcut's addition. Its variables are a `Conv2D`'s (`kernel`, `bias`), so
    checkpoints and facenet's variable names map onto it unchanged.

    Args:
        scale: float. Factor applied to the branch. Defaults to 1.0.
        **kwargs: `keras.layers.Conv2D` arguments (`filters`, `kernel_size`, `name`, ...).
    """

    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        scale = keras.ops.cast(self.scale, self.compute_dtype)
        outputs = self.convolution_op(inputs, keras.ops.multiply(self.kernel, scale))
        if self.use_bias:
            bias_shape = (self.filters,) if self.data_format == "channels_last" else (self.filters, 1, 1)
            bias = keras.ops.reshape(keras.ops.multiply(self.bias, scale), bias_shape)
            outputs = keras.ops.add(outputs, bias)
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config
