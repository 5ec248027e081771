"""ScaledResidual: the `shortcut + scale * residual` merge of the Inception-ResNet blocks."""

import keras


@keras.saving.register_keras_serializable(package="fusion_tf")
class ScaledResidual(keras.layers.Layer):
    """Adds a residual branch, multiplied by a constant, to its shortcut.

    Inception-ResNet scales each residual branch down (by 0.1 to 0.3) before adding it, which
    Szegedy et al. 2016 found necessary to keep wide residual stacks stable. A layer rather than
    a `Lambda` so that models using it round-trip through `.keras` files.

    Call it on `[shortcut, residual]`, two tensors of the same shape.

    Args:
        scale: float. Factor applied to the residual branch. Defaults to 1.0.
        **kwargs: Standard `keras.layers.Layer` arguments (`name`, `dtype`, ...).
    """

    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        shortcut, residual = inputs
        return shortcut + keras.ops.cast(self.scale, residual.dtype) * residual

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale})
        return config
