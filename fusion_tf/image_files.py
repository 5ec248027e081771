"""Reading an image file safely: regular files only, never more than a size cap, never blocking.

Shared by the builder's workers and the gallery search, so plain Python and no TensorFlow.
"""

import os
import stat

DEFAULT_MAX_IMAGE_BYTES = 50_000_000  # a 100-megapixel JPEG at quality 95 is about 30 MB


class ImageFileError(ValueError):
    """Why an image file cannot be read; the message names the file."""


def read_image_file(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of the regular file at `path`, at most `max_bytes` of them.

    Devices, pipes, sockets and folders are refused without reading (/dev/zero never ends, a
    FIFO blocks until a writer comes), and so are files over `max_bytes`. Symbolic links are
    followed: whoever lists the files decides which links to trust.

    Raises:
        ImageFileError: missing, unreadable, not a regular file, or too large.
    """
    try:
        # Non-blocking, so that opening a FIFO returns at once instead of waiting for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError as error:
        raise ImageFileError(f"file not found: {path}") from error
    except OSError as error:
        raise ImageFileError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ImageFileError(
                f"cannot read {path}: not a regular file (a folder, device, pipe or socket)"
            )
        if status.st_size > max_bytes:
            raise ImageFileError(
                f"{path}: {status.st_size:,} bytes, more than max_image_bytes={max_bytes:,}"
            )
        with open(descriptor, "rb", closefd=False) as file:
            # One byte past the cap tells a file that grew since fstat.
            data = file.read(max_bytes + 1)
    finally:
        os.close(descriptor)
    if len(data) > max_bytes:
        raise ImageFileError(f"{path}: more than max_image_bytes={max_bytes:,} bytes")
    return data
