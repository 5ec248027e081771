"""FaceNet's InceptionResNet-V1 (davidsandberg/facenet) as a Keras functional backbone.

The network follows facenet's `src/models/inception_resnet_v1.py` layer for layer: the stem,
5 x block35 (scale 0.17), Mixed_6a (reduction A with k=192, l=192, m=256, n=384),
10 x block17 (scale 0.10), Mixed_7a (reduction B), 5 x block8 (scale 0.20), a last block8
with scale 1.0 and no activation (`Block8`), global average pooling, dropout and a 128-unit
`Bottleneck` fully connected layer. As facenet's slim `arg_scope` sets up, every convolution and
the bottleneck have no bias and are followed by batch normalisation (momentum 0.995,
epsilon 0.001, a learned offset but no learned scale) and, for convolutions, a ReLU; the 1x1
convolution that closes each residual block keeps its bias and has neither. Kernels start from
Glorot-uniform (slim's `xavier_initializer`) and carry facenet's L2 weight decay: slim's
`l2_regularizer(weight_decay)` adds `weight_decay * sum(w**2) / 2`, so the Keras regulariser is
`L2(weight_decay / 2)`.

Names map mechanically onto facenet's TF1 variable names, so a facenet checkpoint can be read
into this model: a Keras layer name is facenet's variable scope with "/" written as "__"
(Keras layer names cannot hold "/", and facenet's names never contain "__"), and inside a layer
`kernel` is slim's `weights`, `bias` is `biases` and the batch-norm variables keep their names
(`beta`, `moving_mean`, `moving_variance`). Each convolution's batch norm is the layer
"<scope>__BatchNorm"; ReLUs, concatenations and residual merges ("__Relu", "__Concat",
"__ScaledResidual") have no variables. For example, the Keras variable
`Repeat_1__block17_3__Branch_1__Conv2d_0b_1x7__BatchNorm/moving_mean` is facenet's
`InceptionResnetV1/Repeat_1/block17_3/Branch_1/Conv2d_0b_1x7/BatchNorm/moving_mean`;
`Repeat`, `Repeat_1` and `Repeat_2` are the scopes slim.repeat gave the three block stacks.
"""

import dataclasses

import keras
from keras import layers

from fusion_tf.models.fused_batch_norm import FusedBatchNormalization
from fusion_tf.models.scaled_residual import ScaledResidual

# Three valid 3x3 convolutions, a valid 3x3 max pool and four stride-2 valid reductions take a
# 75-pixel side down to 1 (75 -> 37 -> 35 -> 17 -> 15 -> 7 -> 3 -> 1); one pixel less leaves
# nothing for Mixed_7a to reduce.
MIN_INPUT_SIZE = 75


@dataclasses.dataclass(frozen=True)
class InceptionResNetV1Preset:
    """Depth and width of an InceptionResNet-V1.

    Args:
        width_multiplier: float. Factor applied to every channel count of the facenet network
            (rounded, at least 1). Defaults to 1.0.
        block35_repeats: int. Number of Inception-ResNet-A blocks. Defaults to 5.
        block17_repeats: int. Number of Inception-ResNet-B blocks. Defaults to 10.
        block8_repeats: int. Number of Inception-ResNet-C blocks with activation, before the
            last one without. Defaults to 5.
        batch_norm_momentum: float. Decay of the batch norms' moving statistics; facenet's
            0.995 averages over about 200 steps. Defaults to 0.995.
    """

    width_multiplier: float = 1.0
    block35_repeats: int = 5
    block17_repeats: int = 10
    block8_repeats: int = 5
    batch_norm_momentum: float = 0.995

    def channels(self, facenet_channels: int) -> int:
        """The channel count this preset uses where facenet uses `facenet_channels`."""
        return max(1, round(facenet_channels * self.width_multiplier))


# A quarter of the channels and one block per stack: trains in minutes on two CPU cores.
# Its runs last hundreds of steps, not facenet's hundreds of thousands, so the moving
# statistics that evaluation uses must follow the weights faster than 0.995 lets them.
_TINY = InceptionResNetV1Preset(
    width_multiplier=0.25,
    block35_repeats=1,
    block17_repeats=1,
    block8_repeats=1,
    batch_norm_momentum=0.9,
)

PRESETS: dict[str, InceptionResNetV1Preset] = {
    # facenet's network, for real data sets.
    "facenet": InceptionResNetV1Preset(),
    "tiny": _TINY,
    # tiny at half of facenet's width: four times tiny's convolutions, for CPU runs that can
    # pay for them, e.g. with the captions read at a smaller side.
    "small": dataclasses.replace(_TINY, width_multiplier=0.5),
}


def get_preset(name: str) -> InceptionResNetV1Preset:
    """Returns the preset called `name`, one of `PRESETS`."""
    if name not in PRESETS:
        raise ValueError(
            f"Unknown InceptionResNet-V1 preset {name!r}; choose one of {sorted(PRESETS)}."
        )
    return PRESETS[name]


@dataclasses.dataclass(frozen=True)
class _LayerFactory:
    """Builds facenet's conv/batch-norm units at one width and weight decay.

    With `shared` set, convolutions and dense layers are that backbone's own layer objects (the
    same weights) and only the batch norms are new.
    """

    preset: InceptionResNetV1Preset
    regularizer: keras.regularizers.Regularizer | None
    shared: keras.Model | None = None

    def weighted(self, name: str, make):
        """The shared backbone's layer `name`, or a new one from `make()`."""
        return make() if self.shared is None else self.shared.get_layer(name)

    def batch_norm(self, name: str, dtype: str | None = None) -> FusedBatchNormalization:
        return FusedBatchNormalization(
            momentum=self.preset.batch_norm_momentum,
            epsilon=0.001,
            center=True,
            scale=False,
            name=name,
            dtype=dtype,
        )

    def conv(
        self, x, facenet_filters: int, kernel_size, name: str, strides: int = 1, padding="same"
    ):
        """slim.conv2d under facenet's arg_scope: convolution, batch norm, ReLU."""
        x = self.weighted(
            name,
            lambda: layers.Conv2D(
                self.preset.channels(facenet_filters),
                kernel_size,
                strides=strides,
                padding=padding,
                use_bias=False,
                kernel_regularizer=self.regularizer,
                name=name,
            ),
        )(x)
        x = self.batch_norm(f"{name}__BatchNorm")(x)
        return layers.ReLU(name=f"{name}__Relu")(x)

    def residual(self, x, branches: list, scale: float, activation: bool, name: str):
        """Concatenates the branches, projects back to x's width and adds them to x."""
        mixed = layers.Concatenate(name=f"{name}__Concat")(branches)
        # normalizer_fn=None and activation_fn=None in facenet: a plain biased 1x1 projection.
        projection = f"{name}__Conv2d_1x1"
        up = self.weighted(
            projection,
            lambda: layers.Conv2D(
                x.shape[-1], 1, kernel_regularizer=self.regularizer, name=projection
            ),
        )(mixed)
        x = ScaledResidual(scale, name=f"{name}__ScaledResidual")([x, up])
        if activation:
            x = layers.ReLU(name=f"{name}__Relu")(x)
        return x


def _block35(factory: _LayerFactory, x, scale: float, name: str):
    """Inception-ResNet-A, the 35x35 block."""
    branch_0 = factory.conv(x, 32, 1, f"{name}__Branch_0__Conv2d_1x1")
    branch_1 = factory.conv(x, 32, 1, f"{name}__Branch_1__Conv2d_0a_1x1")
    branch_1 = factory.conv(branch_1, 32, 3, f"{name}__Branch_1__Conv2d_0b_3x3")
    branch_2 = factory.conv(x, 32, 1, f"{name}__Branch_2__Conv2d_0a_1x1")
    branch_2 = factory.conv(branch_2, 32, 3, f"{name}__Branch_2__Conv2d_0b_3x3")
    branch_2 = factory.conv(branch_2, 32, 3, f"{name}__Branch_2__Conv2d_0c_3x3")
    return factory.residual(x, [branch_0, branch_1, branch_2], scale, True, name)


def _block17(factory: _LayerFactory, x, scale: float, name: str):
    """Inception-ResNet-B, the 17x17 block."""
    branch_0 = factory.conv(x, 128, 1, f"{name}__Branch_0__Conv2d_1x1")
    branch_1 = factory.conv(x, 128, 1, f"{name}__Branch_1__Conv2d_0a_1x1")
    branch_1 = factory.conv(branch_1, 128, (1, 7), f"{name}__Branch_1__Conv2d_0b_1x7")
    branch_1 = factory.conv(branch_1, 128, (7, 1), f"{name}__Branch_1__Conv2d_0c_7x1")
    return factory.residual(x, [branch_0, branch_1], scale, True, name)


def _block8(factory: _LayerFactory, x, scale: float, activation: bool, name: str):
    """Inception-ResNet-C, the 8x8 block."""
    branch_0 = factory.conv(x, 192, 1, f"{name}__Branch_0__Conv2d_1x1")
    branch_1 = factory.conv(x, 192, 1, f"{name}__Branch_1__Conv2d_0a_1x1")
    branch_1 = factory.conv(branch_1, 192, (1, 3), f"{name}__Branch_1__Conv2d_0b_1x3")
    branch_1 = factory.conv(branch_1, 192, (3, 1), f"{name}__Branch_1__Conv2d_0c_3x1")
    return factory.residual(x, [branch_0, branch_1], scale, activation, name)


def _reduction_a(factory: _LayerFactory, x, k: int, l: int, m: int, n: int, name: str):  # noqa: E741
    """Reduction A (35x35 -> 17x17); k, l, m, n are the filter counts of the paper's table 1."""
    branch_0 = factory.conv(x, n, 3, f"{name}__Branch_0__Conv2d_1a_3x3", strides=2, padding="valid")
    branch_1 = factory.conv(x, k, 1, f"{name}__Branch_1__Conv2d_0a_1x1")
    branch_1 = factory.conv(branch_1, l, 3, f"{name}__Branch_1__Conv2d_0b_3x3")
    branch_1 = factory.conv(
        branch_1, m, 3, f"{name}__Branch_1__Conv2d_1a_3x3", strides=2, padding="valid"
    )
    branch_2 = layers.MaxPooling2D(3, strides=2, name=f"{name}__Branch_2__MaxPool_1a_3x3")(x)
    return layers.Concatenate(name=f"{name}__Concat")([branch_0, branch_1, branch_2])


def _reduction_b(factory: _LayerFactory, x, name: str):
    """Reduction B (17x17 -> 8x8)."""
    branch_0 = factory.conv(x, 256, 1, f"{name}__Branch_0__Conv2d_0a_1x1")
    branch_0 = factory.conv(
        branch_0, 384, 3, f"{name}__Branch_0__Conv2d_1a_3x3", strides=2, padding="valid"
    )
    branch_1 = factory.conv(x, 256, 1, f"{name}__Branch_1__Conv2d_0a_1x1")
    branch_1 = factory.conv(
        branch_1, 256, 3, f"{name}__Branch_1__Conv2d_1a_3x3", strides=2, padding="valid"
    )
    branch_2 = factory.conv(x, 256, 1, f"{name}__Branch_2__Conv2d_0a_1x1")
    branch_2 = factory.conv(branch_2, 256, 3, f"{name}__Branch_2__Conv2d_0b_3x3")
    branch_2 = factory.conv(
        branch_2, 256, 3, f"{name}__Branch_2__Conv2d_1a_3x3", strides=2, padding="valid"
    )
    branch_3 = layers.MaxPooling2D(3, strides=2, name=f"{name}__Branch_3__MaxPool_1a_3x3")(x)
    return layers.Concatenate(name=f"{name}__Concat")([branch_0, branch_1, branch_2, branch_3])


def inception_resnet_v1(
    input_shape: tuple[int | None, int | None, int] = (160, 160, 3),
    preset: str | InceptionResNetV1Preset = "facenet",
    embedding_size: int = 128,
    dropout_keep_probability: float = 0.8,
    weight_decay: float = 0.0,
    name: str = "InceptionResnetV1",
    shared_weights: keras.Model | None = None,
) -> keras.Model:
    """Builds InceptionResNet-V1 mapping standardised float images to bottleneck embeddings.

    The output is facenet's `prelogits`: the batch-normalised bottleneck, not L2-normalised.
    It is float32 under any mixed-precision policy, because the last batch norm runs in float32.

    Args:
        input_shape: (height, width, channels) of the images; height and width may be None
            (any size) and otherwise must be at least 75.
        preset: a name in `PRESETS` or an `InceptionResNetV1Preset`.
        embedding_size: units of the bottleneck.
        dropout_keep_probability: probability of keeping each pooled feature during training
            (facenet's `keep_probability`), in (0, 1].
        weight_decay: facenet's L2 weight decay on every kernel; 0 adds no regulariser.
        name: name of the returned model; facenet's root variable scope by default.
        shared_weights: a backbone built by this function with the same settings, whose
            convolutions and bottleneck the returned one uses (the same weights); only its
            batch norms are its own. None: every layer is new.
    """
    if isinstance(preset, str):
        preset = get_preset(preset)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape}.")
    for side in input_shape[:2]:
        if side is not None and side < MIN_INPUT_SIZE:
            raise ValueError(
                f"InceptionResNet-V1 needs images of at least {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE} "
                f"pixels, got input_shape={tuple(input_shape)}: its valid convolutions, pools "
                f"and stride-2 reductions shrink {MIN_INPUT_SIZE} pixels to 1 before the last "
                "blocks, and anything smaller to nothing."
            )
    if not 0.0 < dropout_keep_probability <= 1.0:
        raise ValueError(
            f"dropout_keep_probability must be in (0, 1], got {dropout_keep_probability}."
        )
    if weight_decay < 0.0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}.")
    regularizer = keras.regularizers.L2(weight_decay / 2.0) if weight_decay > 0.0 else None
    factory = _LayerFactory(preset, regularizer, shared_weights)

    images = keras.Input(shape=input_shape, name="input")
    x = factory.conv(images, 32, 3, "Conv2d_1a_3x3", strides=2, padding="valid")
    x = factory.conv(x, 32, 3, "Conv2d_2a_3x3", padding="valid")
    x = factory.conv(x, 64, 3, "Conv2d_2b_3x3")
    x = layers.MaxPooling2D(3, strides=2, name="MaxPool_3a_3x3")(x)
    x = factory.conv(x, 80, 1, "Conv2d_3b_1x1", padding="valid")
    x = factory.conv(x, 192, 3, "Conv2d_4a_3x3", padding="valid")
    x = factory.conv(x, 256, 3, "Conv2d_4b_3x3", strides=2, padding="valid")

    for index in range(1, preset.block35_repeats + 1):
        x = _block35(factory, x, 0.17, f"Repeat__block35_{index}")
    x = _reduction_a(factory, x, k=192, l=192, m=256, n=384, name="Mixed_6a")
    for index in range(1, preset.block17_repeats + 1):
        x = _block17(factory, x, 0.10, f"Repeat_1__block17_{index}")
    x = _reduction_b(factory, x, name="Mixed_7a")
    for index in range(1, preset.block8_repeats + 1):
        x = _block8(factory, x, 0.20, True, f"Repeat_2__block8_{index}")
    x = _block8(factory, x, 1.0, False, "Block8")

    # facenet average-pools with a kernel as large as the feature map: a global average.
    x = layers.GlobalAveragePooling2D(name="Logits__AvgPool_1a_8x8")(x)
    x = layers.Dropout(1.0 - dropout_keep_probability, name="Logits__Dropout")(x)
    x = factory.weighted(
        "Bottleneck",
        lambda: layers.Dense(
            embedding_size, use_bias=False, kernel_regularizer=regularizer, name="Bottleneck"
        ),
    )(x)
    prelogits = factory.batch_norm("Bottleneck__BatchNorm", dtype="float32")(x)
    return keras.Model(images, prelogits, name=name)
