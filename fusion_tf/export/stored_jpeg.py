"""The builder's photo conversion as TensorFlow ops: any JPEG or PNG to the JPEG a build would store.

`tfrecords_builder.images.to_jpeg` decodes with OpenCV, resizes with `cv2.resize` and encodes
with OpenCV's libjpeg-turbo. A SavedModel cannot call OpenCV, so `stored_jpeg` repeats each step
with TensorFlow ops that give alike pixels, within the resize's grey level and JPEG's spreading
of it (tests/export/test_stored_jpeg.py checks photos of the shared Flickr8k sample, EXIF
orientations, PNG alpha and 16-bit PNG):

* Size first: the width and height each format's header declares (JPEG frame, PNG IHDR, GIF
  logical screen, BMP info header, WebP VP8/VP8L/VP8X) are read before anything is decoded.
  More than `max_pixels` (the build's decompression-bomb limit) fails, like the builder. The
  served graph also bounds what one image may hold decoded, `max_decoded_pixels`: a JPEG over
  it is decoded at 1/2, 1/4 or 1/8 scale by libjpeg (which averages its 8 x 8 blocks, close to
  the area resize that follows), any other format fails, and so does a progressive JPEG or one
  with its components in separate scans (libjpeg keeps their full-size coefficients whatever
  the scale). A JPEG too short to hold the blocks
  its header declares (at least one bit each) fails too, instead of being filled with grey.
* JPEG: decoded with libjpeg's accurate integer IDCT (OpenCV's; `tf.io.decode_jpeg`'s default
  is the fast one), then turned upright by its EXIF orientation, which OpenCV applies.
* PNG: decoded with 4 channels, 8 or 16 bits as stored; 16-bit samples scaled to 8 bits as the
  builder does ((value + 128) // 257), alpha composited onto white with exact integer rounding
  (the builder's float32 arithmetic gives the same), 256 rows at a time, so no full-size buffer
  is ever wider than the decoded one.
* GIF: only the first frame is decoded (the bytes are cut after it: decode_gif decodes every
  frame). BMP and WebP are decoded by `tf.io.decode_image` (the same pixels as OpenCV for
  opaque images; transparency may differ); animated WebP fails. Formats only OpenCV reads,
  such as TIFF, fail.
* Resize to `size` x `size` with OpenCV's arithmetic (fusion_tf.export.opencv_resize): area when
  both sides shrink, linear otherwise, none when the photo already has that size.
* Encoded with `tf.io.encode_jpeg` at the build's quality: its bytes differ from OpenCV's, but
  they decode to the same pixels (the same encoder settings: 4:2:0 chroma, accurate DCT).

Every failure (not an image, truncated, corrupt, too large) raises InvalidArgumentError, which
the serving signature catches per image.
"""

import dataclasses
import typing

import tensorflow as tf

from fusion_tf.export.opencv_resize import resize_like_opencv
from fusion_tf.image_formats import (
    BMP_SIGNATURE,
    GIF_SIGNATURES,
    JPEG_SIGNATURE,
    PNG_SIGNATURE,
    WEBP_SIGNATURE,
    jpeg_long_enough,
)

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


class _JpegSegments(typing.NamedTuple):
    """What one walk over a JPEG's segments, up to its first scan, finds."""

    exif_tiff_start: tf.Tensor  # offset of the TIFF block in the first APP1 "Exif" segment, or -1
    # Whether libjpeg decodes it a row of blocks at a time, so that a smaller scale also takes
    # less memory: a sequential frame (SOF0, SOF1, SOF9) whose first scan holds all its
    # components. A progressive JPEG, or one whose components come in separate scans, keeps
    # every DCT coefficient of the full-size image (2 bytes each) whatever the scale: a 0.9 MB
    # progressive JPEG of 10000 x 10000 took 307 MB decoded at 1/4. So does, for safety, a JPEG
    # whose segments the walk cannot follow to its first scan.
    streams_by_rows: tf.Tensor


def _jpeg_segments(header: _Header) -> _JpegSegments:
    """Walks the marker segments from the start of image to the first scan (SOS) in one loop."""
    exif = tf.constant(list(b"Exif\x00\x00"), tf.int64)
    sequential = tf.constant(_JPEG_SEQUENTIAL_FRAMES, tf.int64)
    frames = tf.constant(_JPEG_FRAME_MARKERS, tf.int64)

    def walk(position, tiff, components, streams, step):
        marker = header.byte(position + 1)
        is_marker = header.byte(position) == 0xFF
        signature = header.byte(position + 4 + tf.range(6, dtype=tf.int64))
        is_exif = is_marker & (marker == 0xE1) & tf.reduce_all(signature == exif)
        tiff = tf.where(is_exif & (tiff < 0), position + 10, tiff)
        is_frame = is_marker & tf.reduce_any(marker == frames)
        # Components of a sequential frame (the byte after precision, height and width); 0 else.
        components = tf.where(
            is_frame,
            tf.where(tf.reduce_any(marker == sequential), header.byte(position + 9), 0),
            components,
        )
        # Image data starts at SOS (0xDA): no metadata segment follows it.
        is_scan = is_marker & (marker == 0xDA)
        streams = is_scan & (components > 0) & (header.byte(position + 4) == components)
        length = header.unsigned(position + 2, 2, tf.constant(False))
        stop = ~is_marker | is_scan | (marker == 0xD9) | (position + 4 > header.length)
        position = tf.where(stop, tf.constant(-1, tf.int64), position + 2 + length)
        return position, tiff, components, streams, step + 1

    _, tiff, _, streams, _ = tf.while_loop(
        lambda position, tiff, components, streams, step: (position >= 0) & (step < _MAX_SEGMENTS),
        walk,
        (
            tf.constant(2, tf.int64),
            tf.constant(-1, tf.int64),
            tf.constant(0, tf.int64),
            tf.constant(False),
            tf.constant(0),
        ),
    )
    return _JpegSegments(tiff, streams)


def exif_orientation(encoded: tf.Tensor) -> tf.Tensor:
    """The EXIF orientation (1 to 8) of JPEG bytes; 1 (upright) when absent or unreadable."""
    header = _Header(encoded)
    return _orientation(header, _jpeg_segments(header).exif_tiff_start)


def _orientation(header: _Header, tiff: tf.Tensor) -> tf.Tensor:
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


_JPEG, _PNG, _GIF, _BMP, _WEBP = range(5)
_JPEG_RATIOS = (1, 2, 4, 8)  # the scales libjpeg decodes at directly, from its DCT coefficients
# Start-of-frame markers (C4 DHT, C8 JPG and CC DAC share the range); the sequential ones.
_JPEG_FRAME_MARKERS = tuple(sorted(set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}))
_JPEG_SEQUENTIAL_FRAMES = (0xC0, 0xC1, 0xC9)
_BLOCK_ROWS = 256  # rows widened at once where a decoded image needs more than 8 bits a sample


def _starts_with(head: tf.Tensor, signature: bytes, offset: int = 0) -> tf.Tensor:
    return tf.equal(tf.strings.substr(head, offset, len(signature)), signature)


def _kind(encoded: tf.Tensor) -> tf.Tensor:
    """The format from the leading bytes: _JPEG, _PNG, _GIF, _BMP, _WEBP, or -1 (refused)."""
    # Padded, because substr fails on a start past the end of a string shorter than 12 bytes.
    head = tf.strings.substr(encoded, 0, 16) + b"\x00" * 16
    webp = _starts_with(head, WEBP_SIGNATURE[0]) & _starts_with(head, WEBP_SIGNATURE[1], 8)
    checks = [
        (_starts_with(head, JPEG_SIGNATURE), _JPEG),
        (_starts_with(head, PNG_SIGNATURE), _PNG),
        (_starts_with(head, GIF_SIGNATURES[0]) | _starts_with(head, GIF_SIGNATURES[1]), _GIF),
        (webp, _WEBP),
        (_starts_with(head, BMP_SIGNATURE), _BMP),
    ]
    kind = tf.constant(-1)
    for matches, value in reversed(checks):
        kind = tf.where(matches, value, kind)
    return kind


def _declared_size(encoded: tf.Tensor, kind: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(height, width) as the header declares them, int64, read before any decoding; 0 if unknown."""
    header = _Header(encoded)
    big, little = tf.constant(False), tf.constant(True)

    def jpeg():
        shape = tf.cast(tf.image.extract_jpeg_shape(encoded), tf.int64)
        return shape[0], shape[1]

    def png():
        return header.unsigned(_at(20), 4, big), header.unsigned(_at(16), 4, big)

    def gif():  # the logical screen, the size of every decoded frame
        return header.unsigned(_at(8), 2, little), header.unsigned(_at(6), 2, little)

    def bmp():
        core = header.unsigned(_at(14), 4, little) == 12  # BITMAPCOREHEADER: 16-bit sides
        width = tf.where(
            core, header.unsigned(_at(18), 2, little), header.unsigned(_at(18), 4, little)
        )
        height = tf.where(
            core, header.unsigned(_at(20), 2, little), header.unsigned(_at(22), 4, little)
        )
        height = tf.where(height >= 2**31, 2**32 - height, height)  # negative: rows top-down
        return height, width

    def webp():
        chunk = tf.strings.substr(encoded, 12, 4)
        lossy_width = tf.bitwise.bitwise_and(header.unsigned(_at(26), 2, little), 0x3FFF)
        lossy_height = tf.bitwise.bitwise_and(header.unsigned(_at(28), 2, little), 0x3FFF)
        bits = header.unsigned(_at(21), 4, little)
        lossless_width = tf.bitwise.bitwise_and(bits, 0x3FFF) + 1
        lossless_height = tf.bitwise.bitwise_and(tf.bitwise.right_shift(bits, 14), 0x3FFF) + 1
        extended_width = header.unsigned(_at(24), 3, little) + 1
        extended_height = header.unsigned(_at(27), 3, little) + 1
        zero = tf.constant(0, tf.int64)
        height = tf.where(
            chunk == "VP8 ",
            lossy_height,
            tf.where(
                chunk == "VP8L", lossless_height, tf.where(chunk == "VP8X", extended_height, zero)
            ),
        )
        width = tf.where(
            chunk == "VP8 ",
            lossy_width,
            tf.where(
                chunk == "VP8L", lossless_width, tf.where(chunk == "VP8X", extended_width, zero)
            ),
        )
        return height, width

    def unknown():
        return tf.constant(0, tf.int64), tf.constant(0, tf.int64)

    return tf.switch_case(tf.where(kind < 0, 5, kind), [jpeg, png, gif, bmp, webp, unknown])


def _at(position: int) -> tf.Tensor:
    return tf.constant(position, tf.int64)


def _jpeg_ratio(
    segments: _JpegSegments, height: tf.Tensor, width: tf.Tensor, max_decoded_pixels: int
) -> tf.Tensor:
    """The smallest of 1, 2, 4, 8 at which the decoded JPEG holds at most max_decoded_pixels; 8 if
    none; 1 for a JPEG whose memory a smaller scale does not reduce (streams_by_rows false)."""
    ratio = tf.constant(_JPEG_RATIOS[-1], tf.int64)
    for candidate in reversed(_JPEG_RATIOS[:-1]):
        scaled = -(-height // candidate) * -(-width // candidate)
        ratio = tf.where(scaled <= max_decoded_pixels, tf.constant(candidate, tf.int64), ratio)
    return tf.where(segments.streams_by_rows, ratio, tf.constant(1, tf.int64))


def decoded_pixels(
    encoded: tf.Tensor, settings: StoredImageSettings, max_decoded_pixels: int
) -> tf.Tensor:
    """Pixels (int64) that decoding these bytes will hold, from the header: the declared size,
    a JPEG's scaled down; 0 for bytes that will be refused before decoding (unknown format, no
    size, more than the limits)."""
    kind = _kind(encoded)
    height, width = _declared_size(encoded, kind)
    is_jpeg = tf.equal(kind, _JPEG)
    ratio = tf.where(
        is_jpeg,
        _jpeg_ratio(_jpeg_segments(_Header(encoded)), height, width, max_decoded_pixels),
        tf.constant(1, tf.int64),
    )
    pixels = -(-height // ratio) * -(-width // ratio)
    usable = (kind >= 0) & (height * width <= settings.max_pixels) & (pixels <= max_decoded_pixels)
    return tf.where(usable, pixels, tf.constant(0, tf.int64))


def _check_size(height: tf.Tensor, width: tf.Tensor, limit: int, name: str) -> tf.Operation:
    pixels = height * width
    return tf.debugging.Assert(
        (height > 0) & (width > 0) & (pixels <= limit),
        [f"the image header declares no size, or more than {name}={limit} pixels:", height, width],
    )


def _decode_jpeg(encoded: tf.Tensor, height, width, max_decoded_pixels: int) -> tf.Tensor:
    enough_data = tf.debugging.Assert(
        jpeg_long_enough(tf.cast(tf.strings.length(encoded), tf.int64), height, width),
        ["the JPEG is too short for the size its header declares:", height, width],
    )
    header = _Header(encoded)
    segments = _jpeg_segments(header)  # one walk serves the scale and the orientation
    ratio = _jpeg_ratio(segments, height, width, max_decoded_pixels)
    fits = _check_size(
        -(-height // ratio), -(-width // ratio), max_decoded_pixels, "max_decoded_pixels"
    )

    def decoder(scale):
        return lambda: tf.io.decode_jpeg(
            encoded, channels=3, ratio=scale, dct_method="INTEGER_ACCURATE"
        )

    with tf.control_dependencies([enough_data, fits]):
        image = tf.switch_case(
            tf.add_n([tf.cast(ratio > scale, tf.int32) for scale in _JPEG_RATIOS[:-1]]),
            [decoder(scale) for scale in _JPEG_RATIOS],
        )
    return apply_orientation(image, _orientation(header, segments.exif_tiff_start))


def _by_row_blocks(image: tf.Tensor, convert) -> tf.Tensor:
    """convert(rows) -> uint8 rows, applied to blocks of _BLOCK_ROWS rows, so only a block is widened."""
    height = tf.shape(image)[0]
    count = (height + _BLOCK_ROWS - 1) // _BLOCK_ROWS
    blocks = tf.TensorArray(tf.uint8, size=count, infer_shape=False, element_shape=[None, None, 3])
    _, blocks = tf.while_loop(
        lambda index, _: index < count,
        lambda index, blocks: (
            index + 1,
            blocks.write(index, convert(image[index * _BLOCK_ROWS : (index + 1) * _BLOCK_ROWS])),
        ),
        (tf.constant(0), blocks),
        parallel_iterations=1,
    )
    return tf.cond(count > 0, blocks.concat, lambda: tf.zeros([0, tf.shape(image)[1], 3], tf.uint8))


def _composite_on_white(rows: tf.Tensor) -> tf.Tensor:
    """(h, w, 4) 8-bit samples (int32) to (h, w, 3) uint8, alpha composited onto white.

    round(colour * alpha / 255 + 255 * (1 - alpha / 255)) exactly, in integers: the quotient is
    never a half, so adding 127 before the division rounds it as the builder's float32 does.
    """
    colour, alpha = rows[:, :, :3], rows[:, :, 3:]
    return tf.cast((colour * alpha + 255 * (255 - alpha) + 127) // 255, tf.uint8)


def _decode_png(encoded: tf.Tensor) -> tf.Tensor:
    header = _Header(encoded)
    sixteen_bit = tf.equal(header.byte(_at(24)), 16)

    def eight():
        image = tf.io.decode_png(encoded, channels=4, dtype=tf.uint8)
        return _by_row_blocks(image, lambda rows: _composite_on_white(tf.cast(rows, tf.int32)))

    def sixteen():
        # Scaled to 8 bits as the builder does ((value + 128) // 257), a block at a time.
        image = tf.io.decode_png(encoded, channels=4, dtype=tf.uint16)
        return _by_row_blocks(
            image, lambda rows: _composite_on_white((tf.cast(rows, tf.int32) + 128) // 257)
        )

    return tf.cond(sixteen_bit, sixteen, eight)


def _gif_first_frame(encoded: tf.Tensor) -> tf.Tensor:
    """The GIF cut after its first image, with a trailer: decode_gif decodes every frame it holds.

    Walks the blocks (extensions and their sub-blocks, then the first image descriptor, its
    colour table and its data sub-blocks); -1 when the bytes end first. The first image must lie
    on the logical screen, whose size was checked: decode_gif decodes the image at its own width
    x height (up to 65535 x 65535), so a 190 KB GIF with a 16 x 16 screen and a 16000 x 16000
    image took 1 GB before the check after decoding refused it.
    """
    data = tf.io.decode_raw(encoded, tf.uint8)
    length = tf.shape(data, out_type=tf.int64)[0]

    def byte(position):
        inside = position < length
        return tf.where(
            inside, tf.cast(tf.gather(data, tf.minimum(position, length - 1)), tf.int64), -1
        )

    def table_size(packed):
        return tf.where(
            tf.bitwise.bitwise_and(packed, 0x80) > 0,
            3 * tf.bitwise.left_shift(tf.constant(2, tf.int64), tf.bitwise.bitwise_and(packed, 7)),
            tf.constant(0, tf.int64),
        )

    def word(position):  # little-endian 16 bits
        return byte(position) + 256 * byte(position + 1)

    # mode 0: at a block; 1: in an extension's sub-blocks; 2: in the first image's sub-blocks.
    def step(position, mode, end, on_screen):
        value = byte(position)
        at_block = tf.equal(mode, 0)
        extension = at_block & tf.equal(value, 0x21)
        image = at_block & tf.equal(value, 0x2C)
        terminator = ~at_block & tf.equal(value, 0)
        new_position = tf.where(
            extension,
            position + 2,
            tf.where(
                image,
                position + 11 + table_size(byte(position + 9)),  # descriptor, table, code size
                position + 1 + tf.maximum(value, 0),
            ),
        )
        new_mode = tf.where(extension, 1, tf.where(image, 2, tf.where(terminator, 0, mode)))
        finished = terminator & tf.equal(mode, 2)
        failed = (value < 0) | (at_block & ~extension & ~image)
        new_end = tf.where(finished, position + 1, tf.where(failed, tf.constant(-1, tf.int64), end))
        # The descriptor: left, top, width, height after the separator byte.
        fits = (word(position + 1) + word(position + 5) <= word(_at(6))) & (
            word(position + 3) + word(position + 7) <= word(_at(8))
        )
        return new_position, new_mode, new_end, tf.where(image, fits, on_screen)

    start = 13 + table_size(byte(_at(10)))
    _, _, end, on_screen = tf.while_loop(
        lambda position, mode, end, on_screen: tf.equal(end, 0),
        step,
        (start, tf.constant(0), tf.constant(0, tf.int64), tf.constant(True)),
    )
    complete = tf.debugging.Assert(end > 0, ["the GIF ends before its first image does"])
    inside = tf.debugging.Assert(
        on_screen, ["the GIF's first image is larger than its logical screen"]
    )
    with tf.control_dependencies([complete, inside]):
        first = tf.strings.substr(encoded, tf.constant(0, tf.int64), end) + b"\x3b"
    return tf.io.decode_gif(first)[0]


def _decode_other(encoded: tf.Tensor) -> tf.Tensor:
    return tf.io.decode_image(encoded, channels=3, expand_animations=False)


def _decode_webp(encoded: tf.Tensor) -> tf.Tensor:
    # An animation flag in the extended header: every frame would be decoded, so it is refused.
    extended = tf.equal(tf.strings.substr(encoded, 12, 4), "VP8X")
    flags = _Header(encoded).byte(_at(20))
    still = tf.debugging.Assert(
        ~extended | tf.equal(tf.bitwise.bitwise_and(flags, 0x02), 0),
        ["animated WebP images are refused"],
    )
    with tf.control_dependencies([still]):
        return _decode_other(encoded)


def decode_like_opencv(
    encoded: tf.Tensor, max_pixels: int, max_decoded_pixels: int = 16_000_000
) -> tf.Tensor:
    """The builder's decoded photo: (h, w, 3) uint8 RGB, upright, alpha composited onto white.

    The size the header declares is checked before decoding: more than `max_pixels` (the build's
    limit) is refused; a sequential JPEG over `max_decoded_pixels` is decoded at 1/2, 1/4 or 1/8
    scale, a progressive one or another format refused. Only the first frame of a GIF is decoded.
    """
    kind = _kind(encoded)
    height, width = _declared_size(encoded, kind)
    declared = _check_size(height, width, max_pixels, "max_pixels")

    def fitting(decode):
        # Formats other than JPEG cannot be decoded at a smaller scale: over the budget, refused.
        def checked():
            fits = _check_size(height, width, max_decoded_pixels, "max_decoded_pixels")
            with tf.control_dependencies([fits]):
                return decode()

        return checked

    with tf.control_dependencies([declared]):
        image = tf.switch_case(
            tf.where(kind < 0, 5, kind),
            [
                lambda: _decode_jpeg(encoded, height, width, max_decoded_pixels),
                fitting(lambda: _decode_png(encoded)),
                fitting(lambda: _gif_first_frame(encoded)),
                fitting(lambda: _decode_other(encoded)),
                fitting(lambda: _decode_webp(encoded)),
                _refused,
            ],
        )
    image = tf.ensure_shape(image, [None, None, 3])
    # The decoded size must be the declared one (a JPEG may be scaled), or the check meant nothing.
    decoded = tf.cast(tf.shape(image)[0], tf.int64) * tf.cast(tf.shape(image)[1], tf.int64)
    honoured = tf.debugging.Assert(
        decoded <= tf.maximum(height * width, 1),
        ["the decoded image is larger than its header declares:", height, width],
    )
    with tf.control_dependencies([honoured]):
        return tf.identity(image)


def _refused() -> tf.Tensor:
    with tf.control_dependencies(
        [tf.debugging.Assert(False, ["not a JPEG, PNG, GIF, BMP or WebP image"])]
    ):
        return tf.zeros([0, 0, 3], tf.uint8)


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
    encoded: tf.Tensor,
    settings: StoredImageSettings = StoredImageSettings(),
    max_decoded_pixels: int = 16_000_000,
) -> tf.Tensor:
    """The JPEG the builder would store for these image bytes (a scalar string tensor).

    Raises (when run):
        InvalidArgumentError: not an image TensorFlow can decode, truncated, corrupt, more than
            `settings.max_pixels` pixels, or (not JPEG) more than `max_decoded_pixels`.
    """
    image = decode_like_opencv(encoded, settings.max_pixels, max_decoded_pixels)
    resized = resize_like_builder(image, settings.size)
    return tf.io.encode_jpeg(resized, quality=settings.jpeg_quality)
