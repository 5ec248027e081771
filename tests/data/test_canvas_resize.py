"""Caption canvases resized through their runs of one colour against resizing their pixels."""

import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.data import pipeline
from fusion_tf.data.canvas_resize import CanvasResizer, expansion, resize_matrix
from fusion_tf.text import TextImageEncoder, WordVectors
from fusion_tf.text.layout import TextImageLayout

# float32 sums in another order; pixels run 0..255.
PIXEL_TOLERANCE = 1e-3


def full_canvases(dim: int, **layout_options) -> tuple[TextImageEncoder, np.ndarray]:
    """An encoder of random `dim`-d words and canvases from empty to full, every word distinct
    in colour, so a run that held two colours would show."""
    words = [f"word{index}" for index in range(60)]
    vectors = WordVectors(words, np.random.default_rng(dim).normal(size=(len(words), dim)))
    encoder = TextImageEncoder(vectors, **layout_options)
    rng = np.random.default_rng(1)
    lengths = [0, 1, 3, encoder.capacity - 1, encoder.capacity, encoder.capacity + 4]
    captions = [" ".join(rng.choice(words, length)) for length in lengths]
    return encoder, encoder.encode(captions)


LAYOUTS = {
    "24-d, the default": (24, {}),
    "12-d": (12, {}),
    "48-d at 12 px": (48, {"superpixel_size": 12}),
    "6-d, no separators": (6, {"separator": 0}),
    "24-d, 5 px on 100": (24, {"superpixel_size": 5, "canvas_size": 100, "separator": 3}),
}


@pytest.mark.parametrize("dim, options", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_every_canvas_is_its_grid_expanded(dim, options):
    encoder, canvases = full_canvases(dim, **options)
    resizer = CanvasResizer(encoder.layout, image_size=encoder.canvas_size)
    size = encoder.canvas_size
    rows, columns = expansion(resizer.row_starts, size), expansion(resizer.column_starts, size)
    grid = resizer.grid(tf.constant(canvases)).numpy()
    np.testing.assert_array_equal(np.einsum("ir,nrcz,jc->nijz", rows, grid, columns), canvases)


@pytest.mark.parametrize("dim, options", LAYOUTS.values(), ids=LAYOUTS.keys())
@pytest.mark.parametrize("image_size", [75, 112, 160, 300])
def test_whole_canvases_equal_the_antialiased_resize(dim, options, image_size):
    encoder, canvases = full_canvases(dim, **options)
    resizer = CanvasResizer(encoder.layout, image_size)
    expected = pipeline.resize(tf.constant(canvases), image_size)
    np.testing.assert_allclose(resizer.whole(tf.constant(canvases)), expected, atol=PIXEL_TOLERANCE)


@pytest.mark.parametrize("crop_size, image_size", [(227, 112), (227, 256), (200, 160), (256, 80)])
def test_crops_equal_stateless_random_crop_then_resize(crop_size, image_size):
    encoder, canvases = full_canvases(24)
    canvases = tf.constant(canvases)
    resizer = CanvasResizer(encoder.layout, image_size, crop_size)
    offsets = set()  # the crops drawn, as bytes
    for draw in range(12):
        seed = tf.constant([7, draw], tf.int64)
        crops = tf.image.stateless_random_crop(canvases, [6, crop_size, crop_size, 3], seed)
        expected = pipeline.resize(crops, image_size)
        np.testing.assert_allclose(
            resizer.resize(resizer.grid(canvases), seed), expected, atol=PIXEL_TOLERANCE
        )
        offsets.add(crops.numpy().tobytes())
    assert len(offsets) > 1 or crop_size == 256  # the draws moved the crop


def test_the_pipeline_resizes_in_graph_as_eagerly():
    encoder, canvases = full_canvases(24)
    resizer = CanvasResizer(encoder.layout, 112, 227)
    seed = tf.constant([1, 2], tf.int64)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
    def views(pixels):
        return resizer.whole(pixels), resizer.resize(resizer.grid(pixels), seed)

    whole, cropped = views(tf.constant(canvases))
    np.testing.assert_allclose(whole, resizer.whole(tf.constant(canvases)), atol=PIXEL_TOLERANCE)
    np.testing.assert_allclose(
        cropped, resizer.resize(resizer.grid(tf.constant(canvases)), seed), atol=PIXEL_TOLERANCE
    )


def test_a_canvas_of_another_size_is_refused_naming_both():
    resizer = CanvasResizer(TextImageLayout(dim=24), 112)
    with pytest.raises(ValueError, match="256 px square.*not 200 x 200"):
        resizer.whole(tf.zeros([1, 200, 200, 3], tf.uint8))

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
    def whole(pixels):
        return resizer.whole(pixels)

    with pytest.raises(tf.errors.InvalidArgumentError, match="256 px square"):
        whole(tf.zeros([1, 200, 200, 3], tf.uint8))


def test_a_crop_larger_than_the_canvas_is_refused():
    with pytest.raises(ValueError, match="crop_size=300 must lie in 1..256"):
        CanvasResizer(TextImageLayout(dim=24), 112, crop_size=300)


def test_resize_matrix_equals_the_pipelines_antialiased_resize():
    image = np.random.default_rng(2).uniform(0, 255, (256, 256, 3)).astype(np.float32)
    matrix = resize_matrix(256, 75)
    by_matrices = np.einsum("ij,jkc,lk->ilc", matrix, image, matrix)
    expected = pipeline.resize(tf.constant(image), 75).numpy()
    np.testing.assert_allclose(by_matrices, expected, atol=PIXEL_TOLERANCE)


def test_the_pipeline_reads_the_layout_the_build_saved(tmp_path, write_shards):
    encoder = write_shards(tmp_path)
    config = pipeline.PipelineConfig(image_size=80)
    resizer = pipeline.canvas_resizer(tmp_path, config)
    assert resizer.canvas_size == encoder.canvas_size
    assert TextImageEncoder.load_layout(tmp_path / "encoder") == encoder.layout
    # Without crops in the configuration, no crop size is checked or prepared.
    assert resizer.crop_size == encoder.canvas_size
    config2 = pipeline.PipelineConfig(image_size=80, input_config="config2")
    assert pipeline.canvas_resizer(tmp_path, config2).crop_size == config2.crop_size
