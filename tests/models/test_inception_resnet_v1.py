"""Tests for the InceptionResNet-V1 backbone: shapes, size limit, parameter count, names, saving."""

import dataclasses

import keras
import numpy as np
import pytest

from fusion_tf.models.inception_resnet_v1 import (
    PRESETS,
    InceptionResNetV1Preset,
    get_preset,
    inception_resnet_v1,
)


def _conv_bn(kernel_height, kernel_width, in_channels, out_channels):
    """(trainable, non-trainable) of a bias-free convolution + batch norm with beta only."""
    kernel = kernel_height * kernel_width * in_channels * out_channels
    return kernel + out_channels, 2 * out_channels  # beta; moving mean and variance


def _projection(in_channels, out_channels):
    """(trainable, non-trainable) of the biased 1x1 convolution closing a residual block."""
    return in_channels * out_channels + out_channels, 0


def _total(*units):
    return tuple(sum(counts) for counts in zip(*units, strict=True))


def _facenet_parameter_counts():
    """(trainable, non-trainable) of facenet's network, from its architecture alone.

    Per unit (trainable, non-trainable):
      stem        (614_896, 1_312)  3x3 3->32, 3x3 32->32, 3x3 32->64, 1x1 64->80,
                                    3x3 80->192, 3x3 192->256
      block35     (77_248, 384)     x5 at 256 channels; branches of 32, projection 96->256
      Mixed_6a    (1_709_056, 2_048) 3x3/2 256->384 | 1x1 256->192, 3x3 192->192, 3x3/2 192->256
      block17     (689_536, 1_024)  x10 at 896 channels; 128-wide 1x1, 1x7, 7x1, proj. 256->896
      Mixed_7a    (3_344_256, 3_840) three 1x1 896->256 then 3x3/2 ->384 | 3x3/2 ->256 |
                                    3x3 ->256, 3x3/2 ->256
      block8      (1_600_000, 1_536) x6 (5 + Block8) at 1792 channels; 192-wide 1x1, 1x3, 3x1,
                                    projection 384->1792
      Bottleneck  (229_504, 256)    1792x128 kernel + batch norm on 128
      total       (22_779_312, 28_832) = 22_808_144, as keras-facenet's conversion reports.
    """
    stem = _total(
        _conv_bn(3, 3, 3, 32),
        _conv_bn(3, 3, 32, 32),
        _conv_bn(3, 3, 32, 64),
        _conv_bn(1, 1, 64, 80),
        _conv_bn(3, 3, 80, 192),
        _conv_bn(3, 3, 192, 256),
    )
    block35 = _total(
        *[_conv_bn(1, 1, 256, 32)] * 3, *[_conv_bn(3, 3, 32, 32)] * 3, _projection(96, 256)
    )
    mixed_6a = _total(
        _conv_bn(3, 3, 256, 384),
        _conv_bn(1, 1, 256, 192),
        _conv_bn(3, 3, 192, 192),
        _conv_bn(3, 3, 192, 256),
    )
    block17 = _total(
        *[_conv_bn(1, 1, 896, 128)] * 2,
        _conv_bn(1, 7, 128, 128),
        _conv_bn(7, 1, 128, 128),
        _projection(256, 896),
    )
    mixed_7a = _total(
        *[_conv_bn(1, 1, 896, 256)] * 3,
        _conv_bn(3, 3, 256, 384),
        *[_conv_bn(3, 3, 256, 256)] * 3,
    )
    block8 = _total(
        *[_conv_bn(1, 1, 1792, 192)] * 2,
        _conv_bn(1, 3, 192, 192),
        _conv_bn(3, 1, 192, 192),
        _projection(384, 1792),
    )
    bottleneck = (1792 * 128 + 128, 2 * 128)
    return _total(
        stem, *[block35] * 5, mixed_6a, *[block17] * 10, mixed_7a, *[block8] * 6, bottleneck
    )


FACENET_TRAINABLE_PARAMETERS = 22_779_312
FACENET_NON_TRAINABLE_PARAMETERS = 28_832


def _parameter_counts(model):
    def count(weights):
        return sum(int(np.prod(weight.shape)) for weight in weights)

    return count(model.trainable_weights), count(model.non_trainable_weights)


def _facenet_variable_name(keras_path):
    """The module docstring's mapping from a Keras variable path to facenet's name."""
    layer_name, variable_name = keras_path.split("/")
    variable_name = {"kernel": "weights", "bias": "biases"}.get(variable_name, variable_name)
    return "InceptionResnetV1/" + layer_name.replace("__", "/") + "/" + variable_name


@pytest.fixture(scope="module")
def facenet_model():
    return inception_resnet_v1((160, 160, 3), preset="facenet")


@pytest.fixture(scope="module")
def tiny_model():
    return inception_resnet_v1((80, 80, 3), preset="tiny")


def test_arithmetic_derivation_gives_the_pinned_counts():
    assert _facenet_parameter_counts() == (
        FACENET_TRAINABLE_PARAMETERS,
        FACENET_NON_TRAINABLE_PARAMETERS,
    )


def test_facenet_parameter_count_is_pinned(facenet_model):
    assert _parameter_counts(facenet_model) == (
        FACENET_TRAINABLE_PARAMETERS,
        FACENET_NON_TRAINABLE_PARAMETERS,
    )
    assert facenet_model.count_params() == 22_808_144


def test_tiny_preset_is_much_smaller(tiny_model):
    trainable, _ = _parameter_counts(tiny_model)
    assert trainable < FACENET_TRAINABLE_PARAMETERS / 20


@pytest.mark.parametrize("size", [75, 80, 96, 160])
def test_tiny_output_shape(size):
    model = inception_resnet_v1((size, size, 3), preset="tiny", embedding_size=64)
    output = model(np.zeros((2, size, size, 3), "float32"))
    assert tuple(output.shape) == (2, 64)


@pytest.mark.parametrize("size", [75, 160])
def test_facenet_output_shape(size):
    model = inception_resnet_v1((size, size, 3), preset="facenet")
    output = model(np.zeros((1, size, size, 3), "float32"))
    assert tuple(output.shape) == (1, 128)


def test_unknown_spatial_size_accepts_several_sizes():
    model = inception_resnet_v1((None, None, 3), preset="tiny")
    for height, width in [(75, 75), (90, 120)]:
        output = model(np.zeros((1, height, width, 3), "float32"))
        assert tuple(output.shape) == (1, 128)


@pytest.mark.parametrize("input_shape", [(74, 74, 3), (160, 74, 3), (74, None, 3)])
def test_too_small_input_raises(input_shape):
    with pytest.raises(ValueError, match="at least 75x75"):
        inception_resnet_v1(input_shape, preset="tiny")


def test_unknown_preset_raises():
    with pytest.raises(ValueError, match="'huge'.*facenet"):
        get_preset("huge")


def test_presets_are_named_and_custom_presets_are_accepted():
    assert get_preset("facenet") == InceptionResNetV1Preset()
    assert PRESETS["tiny"].block17_repeats == 1
    custom = InceptionResNetV1Preset(width_multiplier=0.125, block35_repeats=2)
    model = inception_resnet_v1((75, 75, 3), preset=custom)
    assert model.get_layer("Conv2d_1a_3x3").filters == 4
    assert model.get_layer("Repeat__block35_2__ScaledResidual")


def test_small_preset_is_tiny_at_twice_the_width():
    tiny, small = (
        inception_resnet_v1((75, 75, 3), preset="tiny"),
        inception_resnet_v1((75, 75, 3), preset="small"),
    )
    assert dataclasses.replace(PRESETS["small"], width_multiplier=0.25) == PRESETS["tiny"]
    assert small.get_layer("Conv2d_1a_3x3").filters == 2 * tiny.get_layer("Conv2d_1a_3x3").filters
    assert [layer.name for layer in small.layers] == [layer.name for layer in tiny.layers]
    # Convolution weights grow with the square of the width.
    assert 3.0 < small.count_params() / tiny.count_params() < 4.0


def test_facenet_architecture_details(facenet_model):
    layers_by_name = {layer.name: layer for layer in facenet_model.layers}
    assert not [name for name in layers_by_name if "/" in name]
    assert layers_by_name["Repeat__block35_5__ScaledResidual"].scale == 0.17
    assert layers_by_name["Repeat_1__block17_10__ScaledResidual"].scale == 0.10
    assert layers_by_name["Repeat_2__block8_5__ScaledResidual"].scale == 0.20
    # The last block8 is unscaled and has no activation.
    assert layers_by_name["Block8__ScaledResidual"].scale == 1.0
    assert "Block8__Relu" not in layers_by_name
    assert layers_by_name["Logits__Dropout"].rate == pytest.approx(0.2)
    assert not layers_by_name["Bottleneck"].use_bias
    for layer in facenet_model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            # Only the residual projections keep a bias (they have no batch norm after them).
            is_projection = layer.name.endswith("__Conv2d_1x1") and "__Branch_" not in layer.name
            assert layer.use_bias == is_projection, layer.name
        if isinstance(layer, keras.layers.BatchNormalization):
            assert (layer.momentum, layer.epsilon, layer.center, layer.scale) == (
                0.995,
                0.001,
                True,
                False,
            )


def test_variable_names_map_onto_facenet_checkpoint_names(facenet_model):
    names = {_facenet_variable_name(weight.path) for weight in facenet_model.weights}
    assert len(names) == len(facenet_model.weights)
    block = "InceptionResnetV1/Repeat_1/block17_3/"
    expected_block = {f"{block}Conv2d_1x1/weights", f"{block}Conv2d_1x1/biases"}
    for conv in [
        "Branch_0/Conv2d_1x1",
        "Branch_1/Conv2d_0a_1x1",
        "Branch_1/Conv2d_0b_1x7",
        "Branch_1/Conv2d_0c_7x1",
    ]:
        expected_block |= {
            f"{block}{conv}/weights",
            f"{block}{conv}/BatchNorm/beta",
            f"{block}{conv}/BatchNorm/moving_mean",
            f"{block}{conv}/BatchNorm/moving_variance",
        }
    assert {name for name in names if name.startswith(block)} == expected_block
    assert {
        "InceptionResnetV1/Conv2d_1a_3x3/weights",
        "InceptionResnetV1/Repeat/block35_1/Branch_2/Conv2d_0c_3x3/BatchNorm/beta",
        "InceptionResnetV1/Mixed_6a/Branch_1/Conv2d_1a_3x3/weights",
        "InceptionResnetV1/Mixed_7a/Branch_2/Conv2d_0b_3x3/BatchNorm/moving_variance",
        "InceptionResnetV1/Repeat_2/block8_5/Conv2d_1x1/biases",
        "InceptionResnetV1/Block8/Branch_1/Conv2d_0c_3x1/weights",
        "InceptionResnetV1/Bottleneck/weights",
        "InceptionResnetV1/Bottleneck/BatchNorm/moving_mean",
    } <= names


def test_weight_decay_matches_slim_l2_regularizer():
    weight_decay = 5e-4
    model = inception_resnet_v1((75, 75, 3), preset="tiny", weight_decay=weight_decay)
    kernels = [weight for weight in model.trainable_weights if weight.path.endswith("/kernel")]
    assert len(model.losses) == len(kernels)
    # slim.l2_regularizer(weight_decay)(w) = weight_decay * tf.nn.l2_loss(w) = wd * sum(w^2) / 2.
    expected = sum(weight_decay * np.sum(np.square(kernel.numpy())) / 2 for kernel in kernels)
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)
    assert not inception_resnet_v1((75, 75, 3), preset="tiny").losses


@pytest.mark.parametrize("keep_probability", [0.0, 1.5])
def test_bad_dropout_keep_probability_raises(keep_probability):
    with pytest.raises(ValueError, match="dropout_keep_probability"):
        inception_resnet_v1((75, 75, 3), preset="tiny", dropout_keep_probability=keep_probability)


def test_config_round_trip_gives_identical_outputs(tiny_model):
    clone = keras.Model.from_config(tiny_model.get_config())
    clone.set_weights(tiny_model.get_weights())
    images = np.random.default_rng(1).normal(size=(2, 80, 80, 3)).astype("float32")
    np.testing.assert_array_equal(tiny_model(images), clone(images))


def test_keras_file_round_trip_gives_identical_outputs(tiny_model, tmp_path):
    path = tmp_path / "backbone.keras"
    tiny_model.save(path)
    loaded = keras.saving.load_model(path)
    images = np.random.default_rng(2).normal(size=(2, 80, 80, 3)).astype("float32")
    np.testing.assert_array_equal(tiny_model(images), loaded(images))
    assert loaded.name == "InceptionResnetV1"


@pytest.fixture(params=["mixed_bfloat16", "mixed_float16"])
def mixed_precision_policy(request):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy(previous)


def test_mixed_precision_output_is_float32(mixed_precision_policy):
    model = inception_resnet_v1((75, 75, 3), preset="tiny")
    assert model.get_layer("Conv2d_1a_3x3").compute_dtype == mixed_precision_policy.removeprefix(
        "mixed_"
    )
    output = model(np.zeros((2, 75, 75, 3), "float32"))
    assert keras.backend.standardize_dtype(output.dtype) == "float32"
    assert all(weight.dtype == "float32" for weight in model.weights)
