"""stored_jpeg against the builder's to_jpeg: alike stored pixels for photos, EXIF and PNG kinds.

Alike, not equal: the resize may differ by a grey level from the installed OpenCV's (see
test_opencv_resize.py), and JPEG spreads such a difference over its 8 x 8 blocks. A wrong EXIF
rotation, alpha compositing or 16-bit scaling moves the mean by tens of levels.
"""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.export.stored_jpeg import StoredImageSettings, exif_orientation, stored_jpeg
from tfrecords_builder.images import to_jpeg

SETTINGS = StoredImageSettings()
MEAN_TOLERANCE = 0.25  # grey levels, over all pixels
MAX_TOLERANCE = 4  # grey levels, any pixel


def assert_stored_alike(converted: np.ndarray, builder: np.ndarray, message: str = "") -> None:
    assert converted.shape == builder.shape, message
    difference = np.abs(converted.astype(int) - builder.astype(int))
    assert difference.mean() <= MEAN_TOLERANCE, f"{message} mean {difference.mean():.3f}"
    assert difference.max() <= MAX_TOLERANCE, f"{message} max {difference.max()}"


@pytest.fixture(scope="module")
def convert():
    function = tf.function(
        lambda encoded: stored_jpeg(encoded, SETTINGS),
        input_signature=[tf.TensorSpec([], tf.string)],
    )
    return lambda encoded: function(tf.constant(encoded)).numpy()


def _pixels(jpeg: bytes) -> np.ndarray:
    """What the training pipeline reads from a stored JPEG."""
    return tf.io.decode_image(jpeg, channels=3).numpy()


def _builder_pixels(encoded: bytes) -> np.ndarray:
    return _pixels(to_jpeg(encoded, SETTINGS.size, SETTINGS.jpeg_quality, SETTINGS.max_pixels))


def _png(array: np.ndarray) -> bytes:
    return cv2.imencode(".png", array)[1].tobytes()


def test_sample_photos_are_stored_like_the_builder_stores_them(convert, sample_photos):
    for name, encoded, kind in zip(
        sample_photos.names, sample_photos.encoded, sample_photos.kinds, strict=True
    ):
        converted = _pixels(convert(encoded))
        assert converted.shape == (256, 256, 3)
        assert_stored_alike(converted, _builder_pixels(encoded), f"{name} ({kind})")


@pytest.mark.parametrize("little_endian", [True, False])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_opencv(
    convert, jpeg_with_orientation, orientation, little_endian
):
    rng = np.random.default_rng(orientation)
    upright = cv2.imencode(".jpg", rng.integers(0, 256, (300, 200, 3), dtype=np.uint8))[1]
    encoded = jpeg_with_orientation(upright.tobytes(), orientation, little_endian)
    assert int(exif_orientation(tf.constant(encoded))) == orientation
    assert_stored_alike(_pixels(convert(encoded)), _builder_pixels(encoded))


def test_jpeg_without_exif_is_upright():
    encoded = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    assert int(exif_orientation(tf.constant(encoded))) == 1


@pytest.mark.parametrize(
    "kind, array",
    [
        ("rgba", np.random.default_rng(0).integers(0, 256, (100, 120, 4), dtype=np.uint8)),
        ("16-bit", np.random.default_rng(1).integers(0, 65536, (300, 400, 3), dtype=np.uint16)),
        (
            "16-bit rgba",
            np.random.default_rng(2).integers(0, 65536, (300, 400, 4), dtype=np.uint16),
        ),
        ("gray", np.random.default_rng(3).integers(0, 256, (50, 60), dtype=np.uint8)),
        ("stored size", np.random.default_rng(4).integers(0, 256, (256, 256, 3), dtype=np.uint8)),
    ],
)
def test_png_is_stored_like_the_builder_stores_it(convert, kind, array):
    assert_stored_alike(_pixels(convert(_png(array))), _builder_pixels(_png(array)), kind)


def test_grayscale_jpeg_becomes_three_equal_channels(convert):
    gray = np.random.default_rng(5).integers(0, 256, (500, 300), dtype=np.uint8)
    encoded = cv2.imencode(".jpg", gray)[1].tobytes()
    assert_stored_alike(_pixels(convert(encoded)), _builder_pixels(encoded))


@pytest.mark.parametrize(
    "name, make",
    [
        ("not an image", lambda jpeg: b"hello, world"),
        ("empty", lambda jpeg: b""),
        ("truncated JPEG", lambda jpeg: jpeg[: len(jpeg) // 2]),
        ("JPEG signature only", lambda jpeg: jpeg[:3]),
    ],
)
def test_unusable_bytes_raise_invalid_argument(convert, sample_photos, name, make):
    with pytest.raises(tf.errors.InvalidArgumentError):
        convert(make(sample_photos.encoded[0]))


def test_truncated_png_raises_invalid_argument(convert):
    encoded = _png(np.random.default_rng(6).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError):
        convert(encoded[: len(encoded) - 20])


def test_too_many_pixels_are_refused_before_decoding(oversized_png):
    small = cv2.imencode(".jpg", np.zeros((20, 20, 3), np.uint8))[1].tobytes()
    tight = StoredImageSettings(max_pixels=399)
    for encoded, settings in [(small, tight), (_png(np.zeros((20, 20, 3), np.uint8)), tight)]:
        with pytest.raises(tf.errors.InvalidArgumentError, match="max_pixels=399"):
            stored_jpeg(tf.constant(encoded), settings)
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_pixels=100000000"):
        stored_jpeg(tf.constant(oversized_png), SETTINGS)


def test_settings_come_from_the_manifest_with_builder_defaults():
    manifest = {"image": {"size": 128, "jpeg_quality": 90, "max_image_pixels": 1000}}
    assert StoredImageSettings.from_manifest(manifest) == StoredImageSettings(128, 90, 1000)
    assert StoredImageSettings.from_manifest({}) == StoredImageSettings(256, 95, 100_000_000)
