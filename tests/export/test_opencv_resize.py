"""resize_like_opencv against the installed cv2.resize: within one grey level for area and linear.

setup.py allows any OpenCV >= 4.8, whose fixed-point rounding may change between releases and SIMD
paths; one level is what such a change moves a pixel, and what the served embeddings tolerate
(tests/export/test_saved_model.py checks their cosine and Recall@K).
"""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.export.opencv_resize import resize_like_opencv

SIZE = 256
TOLERANCE = 1  # grey levels


def assert_close_to_opencv(resized: np.ndarray, expected: np.ndarray) -> None:
    assert resized.shape == expected.shape
    difference = np.abs(resized.astype(int) - expected.astype(int)).max()
    assert difference <= TOLERANCE, f"{difference} grey levels from cv2.resize"


@pytest.fixture(scope="module")
def resize():
    functions = {
        interpolation: tf.function(
            lambda image, interpolation=interpolation: resize_like_opencv(
                image, SIZE, interpolation
            ),
            input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)],
        )
        for interpolation in ("area", "linear")
    }
    return lambda image, interpolation: functions[interpolation](tf.constant(image)).numpy()


def _photo_like(shape, seed=0):
    """Smooth gradients plus noise: many values land on rounding ties, unlike pure noise."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0 : shape[0], 0 : shape[1]]
    gradient = (rows * 7 + columns * 3)[:, :, None] + np.array([0, 85, 170])
    return ((gradient + rng.integers(0, 4, (*shape, 3))) % 256).astype(np.uint8)


@pytest.mark.parametrize(
    "shape",
    [(375, 500), (333, 500), (1000, 999), (257, 4000), (600, 256), (300, 256)]
    + [(512, 512), (768, 512), (1024, 768), (256, 512)],  # integer factors: OpenCV's fast path
)
def test_area_is_close_to_opencv(resize, shape):
    image = _photo_like(shape)
    expected = cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    assert_close_to_opencv(resize(image, "area"), expected)


@pytest.mark.parametrize(
    "shape", [(200, 150), (133, 200), (500, 200), (253, 500), (3000, 10), (1, 1)]
)
def test_linear_is_close_to_opencv(resize, shape):
    image = _photo_like(shape, seed=1)
    expected = cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
    assert_close_to_opencv(resize(image, "linear"), expected)


@pytest.mark.parametrize("size", [101, 160, 299])
@pytest.mark.parametrize("interpolation", ["area", "linear"])
def test_other_sizes_are_close_to_opencv(size, interpolation):
    image = _photo_like((500, 375) if interpolation == "area" else (150, 200), seed=2)
    flag = cv2.INTER_AREA if interpolation == "area" else cv2.INTER_LINEAR
    expected = cv2.resize(image, (size, size), interpolation=flag)
    resized = resize_like_opencv(tf.constant(image), size, interpolation)
    assert_close_to_opencv(resized.numpy(), expected)


def test_unknown_interpolation_is_refused():
    with pytest.raises(ValueError, match="cubic"):
        resize_like_opencv(tf.zeros([4, 4, 3], tf.uint8), SIZE, "cubic")
