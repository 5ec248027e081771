"""The leading bytes that identify image files, for the builder's checks, the search and the served graph.

Plain bytes and no imports, so the builder's worker processes read them without loading TensorFlow.
"""

JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GIF_SIGNATURES = (b"GIF87a", b"GIF89a")
BMP_SIGNATURE = b"BM"
WEBP_SIGNATURE = (b"RIFF", b"WEBP")  # "RIFF", a 4-byte length, then "WEBP"
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*")


def jpeg_long_enough(length, height, width):
    """Whether `length` bytes can hold a JPEG of height x width, the size its header declares.

    Each 8 x 8 luma block costs at least one bit (its DC code), so far fewer bytes mean missing
    data, which libjpeg and OpenCV fill with grey and only warn about. Plain arithmetic, so it
    takes Python integers (the builder) and int64 tensors (the served graph) alike.
    """
    return 8 * length >= -(-height // 8) * -(-width // 8)


def detected_kind(data: bytes) -> str:
    """What the leading bytes say a file is, for messages that must not echo its contents."""
    if data.startswith(JPEG_SIGNATURE):
        return "JPEG"
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    if data.startswith(GIF_SIGNATURES):
        return "GIF"
    if data[:4] == WEBP_SIGNATURE[0] and data[8:12] == WEBP_SIGNATURE[1]:
        return "WebP"
    if data.startswith(TIFF_SIGNATURES):
        return "TIFF"
    if data.startswith(BMP_SIGNATURE):
        return "BMP"
    head = data[:512]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data"
    return "text" if all(c.isprintable() or c.isspace() for c in text) else "binary data"
