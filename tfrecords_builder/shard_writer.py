"""ShardWriter: writes one shard under a temporary name and moves it into place only when complete."""

import hashlib
import os
import pathlib

import tensorflow as tf

from fusion_tf.text import EncodingStatistics
from tfrecords_builder.atomic_files import replace_atomically
from tfrecords_builder.scan import record_fingerprint

_READ_BLOCK = 1 << 20


class ShardWriter:
    """Collects one shard's Examples, skipped items and counts; `finish` moves the file into place.

    Args:
        temporary_path: path. Where the shard is written until it is complete.
        final_path: path. Where the complete shard goes (same file system: the move is atomic).
        split: str. The shard's split.
        expected_images: int. Planned records of this shard; it is complete when each has been
            written or skipped.
    """

    def __init__(
        self,
        temporary_path: str | os.PathLike,
        final_path: str | os.PathLike,
        split: str,
        expected_images: int,
    ):
        self.temporary_path = pathlib.Path(temporary_path)
        self.final_path = pathlib.Path(final_path)
        self.split = split
        self.expected_images = expected_images
        self.images = 0
        self.captions = 0
        self.skipped = []
        self.statistics = EncodingStatistics()
        self._inputs = hashlib.sha256()
        self._writer = tf.io.TFRecordWriter(str(self.temporary_path))
        self._open = True

    def add_input(self, record) -> None:
        """Feeds a planned record into the fingerprint of this shard's inputs (in stream order)."""
        self._inputs.update(record_fingerprint(record))

    @property
    def done(self) -> bool:
        return self.images + len(self.skipped) >= self.expected_images

    def write(self, serialized_example: bytes, num_captions: int, statistics: dict) -> None:
        self._writer.write(serialized_example)
        self.images += 1
        self.captions += num_captions
        self.statistics.add(EncodingStatistics(**statistics))

    def skip(self, item: str, origin: str, reason: str) -> None:
        self.skipped.append({"item": item, "origin": origin, "reason": reason, "split": self.split})

    def close(self) -> None:
        """Closes the temporary file without finishing (on failure; it is removed on the next run)."""
        if self._open:
            self._writer.close()
            self._open = False

    def finish(self) -> dict:
        """Closes the shard, moves it into place and returns its record (counts, checksum, skips)."""
        self.close()
        checksum = hashlib.sha256()
        with open(self.temporary_path, "rb") as file:
            while block := file.read(_READ_BLOCK):
                checksum.update(block)
        size = self.temporary_path.stat().st_size
        replace_atomically(self.temporary_path, self.final_path)
        return {
            "file": self.final_path.name,
            "images": self.images,
            "captions": self.captions,
            "bytes": size,
            "sha256": checksum.hexdigest(),
            "inputs_sha256": self._inputs.hexdigest(),
            "encoding_statistics": self.statistics.as_dict(),
            "skipped": self.skipped,
        }
