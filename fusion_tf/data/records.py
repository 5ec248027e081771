"""What source readers yield: image-caption Records and input Problems, or SourceFormatError."""

import dataclasses
import os

SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class Record:
    """One image with its captions, as a source reader found it.

    Args:
        image_id: str. Stable identifier of the image within its data set (e.g. its file name).
        image: str or bytes. A path to the image file, or the encoded image itself.
        captions: tuple of str. The image's non-empty captions, stripped of surrounding space.
        split: str. One of "train", "val", "test".
        origin: str. Where the record came from, for messages (e.g. "captions.csv:17").
    """

    image_id: str
    image: str | bytes
    captions: tuple[str, ...]
    split: str
    origin: str


@dataclasses.dataclass(frozen=True)
class Problem:
    """An input problem a reader found and skipped; the builder lists it or fails on it.

    Args:
        item: str. What is affected: an image id, or the start of a line that could not be read.
        origin: str. Where in the input it is (e.g. "Flickr8k.token.txt:42").
        reason: str. What is wrong, in words.
    """

    item: str
    origin: str
    reason: str


class SourceFormatError(ValueError):
    """An index file that cannot be read at all; the message names the file and, if known, line."""

    def __init__(self, path: str | os.PathLike, line: int | None, reason: str):
        self.path = os.fspath(path)
        self.line = line
        self.reason = reason
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {reason}")
