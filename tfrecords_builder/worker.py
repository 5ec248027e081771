"""The worker processes' job: read and convert each image, and encode its captions as PNG images.

Each worker loads the caption encoder once, from the encoder folder the build saved, and then
turns chunks of (image, captions) pairs into the parts of their Examples. The main process
assembles and writes the Examples, because class indices depend on which images were skipped
before them.
"""

import dataclasses

import cv2

from fusion_tf.text import TextImageEncoder
from tfrecords_builder.images import ImageError, read_image, rgb_to_png, to_jpeg


@dataclasses.dataclass(frozen=True)
class ImageSettings:
    """How stored images are made.

    Args:
        image_size: int. Side of the stored square image in pixels.
        jpeg_quality: int. JPEG quality, 1 to 100.
        max_image_pixels: int. Larger images are skipped unread.
        max_image_bytes: int. Larger files are skipped unread.
    """

    image_size: int
    jpeg_quality: int
    max_image_pixels: int
    max_image_bytes: int


@dataclasses.dataclass(frozen=True)
class EncodedImage:
    """The converted parts of one image's Example.

    Args:
        jpeg: bytes. The stored image.
        caption_pngs: list of bytes. Each caption's encoded image as PNG, in caption order.
        statistics: dict. The encoder's counts for these captions (EncodingStatistics.as_dict()).
    """

    jpeg: bytes
    caption_pngs: list[bytes]
    statistics: dict


_encoder: TextImageEncoder | None = None
_settings: ImageSettings | None = None


def initialize(encoder_dir: str, settings: ImageSettings) -> None:
    """Process-pool initializer: loads the encoder once per worker."""
    global _encoder, _settings
    # One worker per core already; OpenCV's own threads would only compete with the other workers.
    cv2.setNumThreads(1)
    _encoder = TextImageEncoder.load(encoder_dir)
    _settings = settings


def encode_image(image: str | bytes, captions: tuple[str, ...]) -> EncodedImage | str:
    """The Example parts of one image, or the reason it cannot be used."""
    try:
        jpeg = to_jpeg(
            read_image(image, _settings.max_image_bytes),
            _settings.image_size,
            _settings.jpeg_quality,
            _settings.max_image_pixels,
        )
    except ImageError as error:
        return str(error)
    pixels, statistics = _encoder.encode(captions, return_statistics=True)
    return EncodedImage(jpeg, [rgb_to_png(canvas) for canvas in pixels], statistics.as_dict())


def encode_chunk(items: list[tuple[str | bytes, tuple[str, ...]]]) -> list[EncodedImage | str]:
    """encode_image for each (image, captions) pair of a chunk, in order."""
    return [encode_image(image, captions) for image, captions in items]
