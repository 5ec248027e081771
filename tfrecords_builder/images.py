"""Image files in and out: a photo of any common kind becomes the stored JPEG, an encoded caption a PNG.

How a photo becomes the stored image:

- JPEG and PNG files are checked before decoding: a JPEG must reach its end-of-image marker and a
  PNG its IEND chunk, else the file is truncated (OpenCV 4 decodes a cut JPEG, filling the missing
  part with grey, and only warns); a JPEG must also hold enough bytes for the size its header
  declares (fusion_tf.image_formats.jpeg_long_enough, the served graph's check too), since a short
  file that keeps its end marker would decode as grey just the same; and the width x height in
  their header must not exceed `max_pixels`, so that a decompression bomb is skipped without
  being decoded. Other formats OpenCV reads (BMP, TIFF, WebP, ...) are decoded first (OpenCV
  itself refuses more than 2^30 pixels), then checked.
- JPEG is decoded in colour, which applies its EXIF orientation and turns grayscale and CMYK into
  RGB; other formats are decoded as stored, so that their alpha channel and bit depth are seen.
- 16-bit samples are scaled to 8 bits (value / 257, rounded); grayscale becomes three equal
  channels; an alpha channel is composited onto white, the ground transparent images are shown on
  in viewers and web pages (on black, dark objects on a transparent ground would vanish).
- The image is resized to size x size ignoring its aspect ratio, as the paper does (area averaging
  when both sides shrink, bilinear otherwise), and encoded as JPEG.
"""

import re

import cv2
import numpy as np

from fusion_tf.image_files import ImageFileError, read_image_file
from fusion_tf.image_formats import (
    JPEG_SIGNATURE,
    PNG_SIGNATURE,
    detected_kind,
    jpeg_long_enough,
)

# Start-of-frame markers carry the image size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE_MARKERS = frozenset([0x01, *range(0xD0, 0xD8)])
# Inside entropy-coded data 0xFF is followed by 0x00 (a stuffed byte) or a restart marker; any other
# byte after 0xFF is the next segment's marker.
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")


# Encoded captions are flat tiles on black: row filters predict nothing there, and without them
# deflate finds the repeats directly. On the Flickr8k sample's captions this gives PNGs a third the
# size of OpenCV's defaults (2.2 KB instead of 6.7 KB) in the same time. Older OpenCV releases
# have no filter setting and keep their default.
_PNG_PARAMETERS = [cv2.IMWRITE_PNG_COMPRESSION, 3]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):
    _PNG_PARAMETERS += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]


class ImageError(ValueError):
    """Why an image cannot be used; the message is the reason listed in skipped.jsonl."""


def read_image(image: str | bytes, max_bytes: int) -> bytes:
    """The encoded image: `image` itself if bytes, else the regular file it names (read_image_file).

    Raises:
        ImageError: a file that cannot be read, more than `max_bytes`, or empty.
    """
    if isinstance(image, bytes):
        data = image
    else:
        try:
            data = read_image_file(image, max_bytes)
        except ImageFileError as error:
            raise ImageError(str(error)) from error
    if len(data) > max_bytes:
        raise ImageError(f"{len(data):,} bytes, more than max_image_bytes={max_bytes:,}")
    if not data:
        raise ImageError("empty file (0 bytes)")
    return data


def _jpeg_size_and_end(data: bytes) -> tuple[tuple[int, int] | None, bool]:
    """(width, height) from the frame header, or None; and whether the end-of-image marker is there."""
    size = None
    position = len(JPEG_SIGNATURE) - 1
    while position + 2 <= len(data):
        if data[position] != 0xFF:
            # Stray bytes between segments: decoders skip them, and so do we.
            match = _JPEG_NEXT_MARKER.search(data, position)
            if match is None:
                break
            position = match.start()
        marker = data[position + 1]
        if marker == 0xD9:
            return size, True
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE_MARKERS:
            position += 2
            continue
        if position + 4 > len(data):
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker in _JPEG_FRAME_MARKERS and length >= 7 and size is None:
            height = int.from_bytes(data[position + 5 : position + 7], "big")
            width = int.from_bytes(data[position + 7 : position + 9], "big")
            size = (width, height) if width and height else None
        position += 2 + length
        if marker == 0xDA:  # start of scan: skip its entropy-coded data
            match = _JPEG_NEXT_MARKER.search(data, position)
            if match is None:
                break
            position = match.start()
    return size, False


def _png_size_and_end(data: bytes) -> tuple[tuple[int, int] | None, bool]:
    """(width, height) from the IHDR chunk, or None; and whether the IEND chunk is there."""
    size = None
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind == b"IHDR" and position + 16 <= len(data):
            width = int.from_bytes(data[position + 8 : position + 12], "big")
            height = int.from_bytes(data[position + 12 : position + 16], "big")
            size = (width, height)
        elif kind == b"IEND":
            return size, True
        position += 12 + length  # length, type, data, CRC
    return size, False


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageError(
            f"{width} x {height} = {width * height:,} pixels, more than max_image_pixels={max_pixels:,}"
        )


def _decode(data: bytes, max_pixels: int) -> np.ndarray:
    """Checks and decodes an encoded image: uint8 or uint16, 2-D or with 1 to 4 channels (BGR order)."""
    if data.startswith(JPEG_SIGNATURE):
        size, complete = _jpeg_size_and_end(data)
        kind, flags = "JPEG", cv2.IMREAD_COLOR
        if not complete:
            raise ImageError("truncated JPEG: no end-of-image marker")
        if size is not None and not jpeg_long_enough(len(data), size[1], size[0]):
            raise ImageError(
                f"truncated JPEG: {len(data):,} bytes cannot hold the {size[0]} x {size[1]} "
                "pixels its header declares"
            )
    elif data.startswith(PNG_SIGNATURE):
        size, complete = _png_size_and_end(data)
        kind, flags = "PNG", cv2.IMREAD_UNCHANGED
        if not complete:
            raise ImageError("truncated PNG: no IEND chunk")
    else:
        size, kind, flags = None, "image", cv2.IMREAD_UNCHANGED
    if size is not None:
        _check_pixels(*size, max_pixels)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as error:
        raise ImageError(f"corrupt {kind}: {error.err or error}") from error
    if image is None:
        if kind == "image":
            raise ImageError(
                f"not an image OpenCV can decode ({len(data):,} bytes of {detected_kind(data)})"
            )
        raise ImageError(f"corrupt {kind}: OpenCV could not decode it")
    _check_pixels(image.shape[1], image.shape[0], max_pixels)
    return image


def _to_bgr(image: np.ndarray) -> np.ndarray:
    """8-bit, three-channel BGR: depth scaled, grayscale expanded, alpha composited onto white."""
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ImageError(f"unsupported sample type {image.dtype}: expected 8 or 16 bits")
    if image.ndim == 2:
        image = image[:, :, np.newaxis]
    channels = image.shape[2]
    if channels not in (1, 2, 3, 4):
        raise ImageError(f"unsupported image with {channels} channels")
    if channels in (2, 4):
        colour, alpha = image[:, :, :-1], image[:, :, -1:].astype(np.float32) / 255
        image = np.rint(colour * alpha + 255 * (1 - alpha)).astype(np.uint8)
    if image.shape[2] == 1:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image


def to_jpeg(data: bytes, size: int, quality: int, max_pixels: int) -> bytes:
    """The stored image: `data` decoded, converted to RGB, resized to size x size, as JPEG bytes.

    Raises:
        ImageError: the data is not a usable image (truncated, corrupt, too large, not an image).
    """
    image = _to_bgr(_decode(data, max_pixels))
    height, width = image.shape[:2]
    if (width, height) != (size, size):
        shrinks = width >= size and height >= size
        interpolation = cv2.INTER_AREA if shrinks else cv2.INTER_LINEAR
        image = cv2.resize(image, (size, size), interpolation=interpolation)
    encoded, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not encoded:
        raise RuntimeError("OpenCV could not encode a JPEG image")
    return jpeg.tobytes()


def rgb_to_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an (height, width, 3) uint8 RGB image; tf.io.decode_png gives back the same RGB."""
    # OpenCV writes its arrays as BGR, so the channels are reversed before encoding.
    encoded, png = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]), _PNG_PARAMETERS)
    if not encoded:
        raise RuntimeError("OpenCV could not encode a PNG image")
    return png.tobytes()


__all__ = ["ImageError", "read_image", "rgb_to_png", "to_jpeg"]
