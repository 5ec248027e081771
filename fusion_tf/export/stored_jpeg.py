"""The builder's photo conversion as TensorFlow ops: any JPEG or PNG to the JPEG a build would store.

`tfrecords_builder.images.to_jpeg` decodes with OpenCV, resizes with `cv2.resize` and encodes
with OpenCV's libjpeg-turbo. A SavedModel cannot call OpenCV, so `stored_jpeg` repeats each step
with TensorFlow ops that give alike pixels, within the resize's grey level and JPEG's spreading
of it (tests/export/test_stored_jpeg.py checks photos of the shared Flickr8k sample, EXIF
orientations, PNG alpha and 16-bit PNG):

* JPEG: decoded with libjpeg's accurate integer IDCT (OpenCV's; `tf.io.decode_jpeg`'s default
  is the fast one), then turned upright by its EXIF orientation, which OpenCV applies.
* PNG: decoded with 16 bits and 4 channels, scaled to 8 bits as the builder does
  ((value + 128) // 257), alpha composited onto white in float32 and rounded half to even.
* GIF, BMP and WebP are decoded by `tf.io.decode_image` (the same pixels as OpenCV for opaque
  images; transparency may differ). Formats only OpenCV reads, such as TIFF, fail.
* Size check: more than `max_pixels` pixels (read from the JPEG or PNG header, before decoding)
  fails, like the builder's decompression-bomb check.
* Resize to `size` x `size` with OpenCV's arithmetic (fusion_tf.export.opencv_resize): area when
  both sides shrink, linear otherwise, none when the photo already has that size.
* Encoded with `tf.io.encode_jpeg` at the build's quality: its bytes differ from OpenCV's, but
  they decode to the same pixels (the same encoder settings: 4:2:0 chroma, accurate DCT).

Every failure (not an image, truncated, corrupt, too large) raises InvalidArgumentError, which
the serving signature catches per image.
"""

import dataclasses

import tensorflow as tf

from fusion_tf.export.opencv_resize import resize_like_opencv
from fusion_tf.image_formats import JPEG_SIGNATURE, PNG_SIGNATURE

# EXIF sits in an APP1 segment right after the start of the image; segments hold at most 64 KiB,
# so the first 128 KiB reach it even behind an APP0 or a colour profile.
_HEADER_BYTES = 1 << 17
_MAX_SEGMENTS = 64
_MAX_IFD_ENTRIES = 256
_ORIENTATION_TAG = 0x0112


@dataclasses.dataclass(frozen=True)
class StoredImageSettings:
    """How a build stored its photos (manifest.json's "image"); the builder's defaults.

    Args:
        size: int. Side of the stored square photo. Defaults to 256.
        jpeg_quality: int. JPEG quality, 1 to 100. Defaults to 95.
        max_pixels: int. Larger photos are refused unread. Defaults to 100,000,000.
    """

    size: int = 256
    jpeg_quality: int = 95
    max_pixels: int = 100_000_000

    @classmethod
    def from_manifest(cls, manifest: dict) -> "StoredImageSettings":
        """The settings recorded in a build's manifest; missing ones keep the builder's defaults."""
        image = manifest.get("image", {})
        defaults = cls()
        return cls(
            size=int(image.get("size", defaults.size)),
            jpeg_quality=int(image.get("jpeg_quality", defaults.jpeg_quality)),
            max_pixels=int(image.get("max_image_pixels", defaults.max_pixels)),
        )


class _Header:
    """Random access to the first bytes of an encoded image; reads past its end give 0."""

    def __init__(self, encoded: tf.Tensor):
        head = tf.io.decode_raw(tf.strings.substr(encoded, 0, _HEADER_BYTES), tf.uint8)
        self.length = tf.shape(head, out_type=tf.int64)[0]
        self.bytes = tf.pad(tf.cast(head, tf.int64), [[0, 1]])

    def byte(self, position: tf.Tensor) -> tf.Tensor:
        inside = (position >= 0) & (position < self.length)
        return tf.gather(self.bytes, tf.where(inside, position, self.length))

    def unsigned(self, position: tf.Tensor, count: int, little_endian: tf.Tensor) -> tf.Tensor:
        """A `count`-byte unsigned integer at `position`, in either byte order."""
        big = tf.zeros_like(position)
        little = tf.zeros_like(position)
        for offset in range(count):
            value = self.byte(position + offset)
            big = big * 256 + value
            little = little + value * 256**offset
        return tf.where(little_endian, little, big)


def _exif_tiff_start(header: _Header) -> tf.Tensor:
    """Offset of the TIFF block in the first APP1 "Exif" segment, or -1."""
    exif = tf.constant(list(b"Exif\x00\x00"), tf.int64)

    def walk(position, tiff, step):
        marker = header.byte(position + 1)
        is_marker = header.byte(position) == 0xFF
        signature = header.byte(position + 4 + tf.range(6, dtype=tf.int64))
        is_exif = is_marker & (marker == 0xE1) & tf.reduce_all(signature == exif)
        length = header.unsigned(position + 2, 2, tf.constant(False))
        # Image data starts at SOS (0xDA): no metadata segment follows it.
        stop = ~is_marker | (marker == 0xDA) | (marker == 0xD9) | (position + 4 > header.length)
        tiff = tf.where(is_exif, position + 10, tiff)
        position = tf.where(stop | is_exif, tf.constant(-1, tf.int64), position + 2 + length)
        return position, tiff, step + 1

    _, tiff, _ = tf.while_loop(
        lambda position, tiff, step: (position >= 0) & (step < _MAX_SEGMENTS),
        walk,
        (tf.constant(2, tf.int64), tf.constant(-1, tf.int64), tf.constant(0)),
    )
    return tiff


def exif_orientation(encoded: tf.Tensor) -> tf.Tensor:
    """The EXIF orientation (1 to 8) of JPEG bytes; 1 (upright) when absent or unreadable."""
    header = _Header(encoded)
    tiff = _exif_tiff_start(header)
    little_endian = header.byte(tiff) == 0x49  # "II"; "MM" is big-endian
    directory = tiff + header.unsigned(tiff + 4, 4, little_endian)
    entries = tf.minimum(header.unsigned(directory, 2, little_endian), _MAX_IFD_ENTRIES)
    entry = directory + 2 + 12 * tf.range(_MAX_IFD_ENTRIES, dtype=tf.int64)
    tags = header.unsigned(entry, 2, little_endian)
    is_orientation = (tags == _ORIENTATION_TAG) & (
        tf.range(_MAX_IFD_ENTRIES, dtype=tf.int64) < entries
    )
    first = tf.argmax(tf.cast(is_orientation, tf.int32), output_type=tf.int64)
    value = header.unsigned(entry[first] + 8, 2, little_endian)
    found = (tiff >= 0) & tf.reduce_any(is_orientation) & (value >= 1) & (value <= 8)
    return tf.where(found, value, tf.constant(1, tf.int64))


def _transpose(image: tf.Tensor) -> tf.Tensor:
    return tf.transpose(image, [1, 0, 2])


def apply_orientation(image: tf.Tensor, orientation: tf.Tensor) -> tf.Tensor:
    """Turns an (h, w, c) image upright for an EXIF orientation, as OpenCV's imdecode does."""
    left_right, up_down = tf.image.flip_left_right, tf.image.flip_up_down
    branches = [
        lambda: image,
        lambda: left_right(image),
        lambda: up_down(left_right(image)),
        lambda: up_down(image),
        lambda: _transpose(image),
        lambda: left_right(_transpose(image)),
        lambda: _transpose(up_down(left_right(image))),
        lambda: up_down(_transpose(image)),
    ]
    return tf.switch_case(tf.cast(orientation - 1, tf.int32), branches)


def _check_pixels(height: tf.Tensor, width: tf.Tensor, max_pixels: int) -> tf.Operation:
    pixels = tf.cast(height, tf.int64) * tf.cast(width, tf.int64)
    return tf.debugging.assert_less_equal(
        pixels,
        tf.constant(max_pixels, tf.int64),
        message=f"the image has more than max_pixels={max_pixels} pixels",
    )


def _decode_jpeg(encoded: tf.Tensor, max_pixels: int) -> tf.Tensor:
    shape = tf.image.extract_jpeg_shape(encoded)
    with tf.control_dependencies([_check_pixels(shape[0], shape[1], max_pixels)]):
        image = tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE")
    return apply_orientation(image, exif_orientation(encoded))


def _decode_png(encoded: tf.Tensor, max_pixels: int) -> tf.Tensor:
    header = _Header(encoded)
    little_endian = tf.constant(False)  # PNG integers are big-endian
    width = header.unsigned(tf.constant(16, tf.int64), 4, little_endian)
    height = header.unsigned(tf.constant(20, tf.int64), 4, little_endian)
    with tf.control_dependencies([_check_pixels(height, width, max_pixels)]):
        image = tf.io.decode_png(encoded, channels=4, dtype=tf.uint16)
    eight_bit = (tf.cast(image, tf.int32) + 128) // 257
    colour = tf.cast(eight_bit[:, :, :3], tf.float32)
    alpha = tf.cast(eight_bit[:, :, 3:], tf.float32) / 255.0
    # Opaque pixels (alpha 1) keep their colour exactly, so this serves PNGs without alpha too.
    return tf.cast(tf.round(colour * alpha + 255.0 * (1.0 - alpha)), tf.uint8)


def _decode_other(encoded: tf.Tensor, max_pixels: int) -> tf.Tensor:
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    shape = tf.shape(image)
    with tf.control_dependencies([_check_pixels(shape[0], shape[1], max_pixels)]):
        return tf.identity(image)


def decode_like_opencv(encoded: tf.Tensor, max_pixels: int) -> tf.Tensor:
    """The builder's decoded photo: (h, w, 3) uint8 RGB, upright, alpha composited onto white."""
    is_jpeg = tf.equal(tf.strings.substr(encoded, 0, len(JPEG_SIGNATURE)), JPEG_SIGNATURE)
    is_png = tf.equal(tf.strings.substr(encoded, 0, len(PNG_SIGNATURE)), PNG_SIGNATURE)
    image = tf.case(
        [
            (is_jpeg, lambda: _decode_jpeg(encoded, max_pixels)),
            (is_png, lambda: _decode_png(encoded, max_pixels)),
        ],
        default=lambda: _decode_other(encoded, max_pixels),
    )
    return tf.ensure_shape(image, [None, None, 3])


def resize_like_builder(image: tf.Tensor, size: int) -> tf.Tensor:
    """To size x size as the builder does: unchanged at that size, area when both sides shrink."""
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    unchanged = (height == size) & (width == size)
    shrinks = (height >= size) & (width >= size)
    resized = tf.case(
        [
            (unchanged, lambda: tf.identity(image)),
            (shrinks, lambda: resize_like_opencv(image, size, "area")),
        ],
        default=lambda: resize_like_opencv(image, size, "linear"),
    )
    return tf.ensure_shape(resized, [size, size, 3])


def stored_jpeg(
    encoded: tf.Tensor, settings: StoredImageSettings = StoredImageSettings()
) -> tf.Tensor:
    """The JPEG the builder would store for these image bytes (a scalar string tensor).

    Raises (when run):
        InvalidArgumentError: not an image TensorFlow can decode, truncated, corrupt, or more
            than `settings.max_pixels` pixels.
    """
    image = decode_like_opencv(encoded, settings.max_pixels)
    resized = resize_like_builder(image, settings.size)
    return tf.io.encode_jpeg(resized, quality=settings.jpeg_quality)
