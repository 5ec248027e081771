"""Image conversion: every kind of photo becomes a 256 px RGB JPEG, and bad files give a clear reason."""

import io
import struct

import cv2
import numpy as np
import pytest
import tensorflow as tf

from tfrecords_builder.images import ImageError, read_image, rgb_to_png, to_jpeg

SIZE = 32
LIMIT = 10_000_000


def decode(jpeg: bytes) -> np.ndarray:
    """RGB pixels of a stored image, decoded the way the training pipeline does."""
    return tf.io.decode_jpeg(jpeg).numpy()


def uniform(height: int, width: int, channels: int, value, dtype=np.uint8) -> np.ndarray:
    image = np.empty((height, width, channels), dtype)
    image[:] = value
    return image


def test_colour_jpeg_is_resized_ignoring_aspect_ratio_and_keeps_rgb_order():
    bgr = uniform(20, 60, 3, (30, 60, 200))  # red in RGB
    rgb = decode(to_jpeg(cv2.imencode(".jpg", bgr)[1].tobytes(), SIZE, 95, LIMIT))
    assert rgb.shape == (SIZE, SIZE, 3)
    np.testing.assert_allclose(rgb.reshape(-1, 3).mean(axis=0), (200, 60, 30), atol=3)


def test_large_photo_is_shrunk():
    bgr = np.random.default_rng(0).integers(0, 256, (300, 200, 3), dtype=np.uint8)
    assert decode(to_jpeg(cv2.imencode(".png", bgr)[1].tobytes(), SIZE, 95, LIMIT)).shape == (
        SIZE,
        SIZE,
        3,
    )


def test_grayscale_becomes_three_equal_channels():
    gray = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (32, 1))
    rgb = decode(to_jpeg(cv2.imencode(".png", gray)[1].tobytes(), SIZE, 95, LIMIT))
    assert rgb.shape == (SIZE, SIZE, 3)
    assert np.abs(rgb[..., 0].astype(int) - rgb[..., 2]).max() <= 2


def test_alpha_is_composited_onto_white():
    bgra = uniform(SIZE, SIZE, 4, (0, 0, 0, 255))
    bgra[:, SIZE // 2 :, 3] = 0  # right half transparent (its colour, black, must not show)
    rgb = decode(to_jpeg(cv2.imencode(".png", bgra)[1].tobytes(), SIZE, 95, LIMIT))
    assert rgb[:, : SIZE // 2 - 2].max() < 10
    assert rgb[:, SIZE // 2 + 2 :].min() > 245


def test_sixteen_bit_png_is_scaled_to_eight_bits():
    bgr16 = uniform(SIZE, SIZE, 3, (257 * 10, 257 * 128, 257 * 250), np.uint16)
    png = cv2.imencode(".png", bgr16)[1].tobytes()
    assert cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    rgb = decode(to_jpeg(png, SIZE, 95, LIMIT))
    np.testing.assert_allclose(rgb.reshape(-1, 3).mean(axis=0), (250, 128, 10), atol=2)


def test_cmyk_jpeg_is_converted_to_rgb():
    image_module = pytest.importorskip("PIL.Image", reason="Pillow writes the CMYK JPEG")
    buffer = io.BytesIO()
    image_module.fromarray(uniform(SIZE, SIZE, 3, (200, 50, 30))).convert("CMYK").save(
        buffer, "JPEG", quality=95
    )
    assert image_module.open(io.BytesIO(buffer.getvalue())).mode == "CMYK"
    rgb = decode(to_jpeg(buffer.getvalue(), SIZE, 95, LIMIT))
    np.testing.assert_allclose(rgb.reshape(-1, 3).mean(axis=0), (200, 50, 30), atol=4)


def test_jpeg_with_bytes_after_its_end_is_accepted():
    jpeg = cv2.imencode(".jpg", uniform(SIZE, SIZE, 3, 128))[1].tobytes()
    assert decode(to_jpeg(jpeg + b"trailing data, e.g. an appended video", SIZE, 95, LIMIT)).shape


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"just some text, named .jpg", "not an image OpenCV can decode"),
        (b"\xff\xd8\xff\xe0 truncated right after the signature", "truncated JPEG"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "truncated PNG"),
    ],
)
def test_unusable_bytes_give_a_reason(data, reason):
    with pytest.raises(ImageError, match=reason):
        to_jpeg(read_image(data, 10**6), SIZE, 95, LIMIT)


def test_truncated_files_are_named_as_such():
    photo = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", photo)[1].tobytes()
    png = cv2.imencode(".png", photo)[1].tobytes()
    with pytest.raises(ImageError, match="truncated JPEG"):
        to_jpeg(jpeg[: len(jpeg) // 2], SIZE, 95, LIMIT)
    with pytest.raises(ImageError, match="truncated PNG"):
        to_jpeg(png[:-12], SIZE, 95, LIMIT)  # everything but the IEND chunk


def test_short_jpeg_declaring_a_huge_size_is_refused_undecoded(monkeypatch):
    # A complete 16 x 16 JPEG (end marker kept) whose frame header says 10000 x 10000: within
    # max_pixels, but OpenCV would allocate 300 MB and return grey where the data is missing.
    jpeg = cv2.imencode(".jpg", uniform(16, 16, 3, 90))[1].tobytes()
    frame = jpeg.index(b"\xff\xc0")
    bomb = jpeg[: frame + 5] + struct.pack(">HH", 10000, 10000) + jpeg[frame + 9 :]
    flat = cv2.imencode(".jpg", uniform(1000, 1000, 3, 90))[1].tobytes()
    assert to_jpeg(flat, SIZE, 95, LIMIT)  # the flattest real JPEG has bytes enough
    monkeypatch.setattr(cv2, "imdecode", lambda *_: pytest.fail("decoded a short JPEG"))
    with pytest.raises(ImageError, match="truncated JPEG: .* cannot hold the 10000 x 10000"):
        to_jpeg(bomb, SIZE, 95, max_pixels=100_000_000)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ImageError, match="file not found: .*missing.jpg"):
        read_image(str(tmp_path / "missing.jpg"), 10**6)
    with pytest.raises(ImageError, match="cannot read"):
        read_image(str(tmp_path), 10**6)  # a folder
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match="empty file"):
        read_image(str(tmp_path / "empty.jpg"), 10**6)


@pytest.mark.parametrize("extension", [".jpg", ".png", ".bmp"])
def test_images_over_the_pixel_limit_are_refused(extension):
    encoded = cv2.imencode(extension, uniform(100, 80, 3, 90))[1].tobytes()
    with pytest.raises(ImageError, match="100 = 8,000 pixels, more than max_image_pixels=7,999"):
        to_jpeg(encoded, SIZE, 95, max_pixels=7_999)
    assert to_jpeg(encoded, SIZE, 95, max_pixels=8_000)


def test_caption_png_decodes_to_the_same_rgb_pixels():
    rgb = np.random.default_rng(2).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    np.testing.assert_array_equal(tf.io.decode_png(rgb_to_png(rgb)).numpy(), rgb)
