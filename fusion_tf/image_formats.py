"""The leading bytes that identify JPEG and PNG files, for the builder's checks and the served graph.

Plain bytes and no imports, so the builder's worker processes read them without loading TensorFlow.
"""

JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
