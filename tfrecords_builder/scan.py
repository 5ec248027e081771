"""The first pass over a source: what is small enough to keep (counts, ids, train captions), and the shard plan.

Images are not read here. Besides the train captions (for Word2Vec) and one entry per image id
(to find duplicates and to tell which problems cost an image), the scan keeps a fingerprint of each
planned shard's inputs, so that a resumed build reuses only shards whose inputs are unchanged.
"""

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Iterator

from fusion_tf.data.records import SPLITS, Problem, Record
from fusion_tf.data.sources import Source
from tfrecords_builder.errors import BuildError


def problem_message(item: str, origin: str, reason: str) -> str:
    """How the build names a problem when it stops on it (--on_error=fail)."""
    return f"{origin}: {item}: {reason} (stopped by --on_error=fail)"


def record_fingerprint(record: Record) -> bytes:
    """What a record contributes to its shard's input fingerprint.

    An image file counts by path, size and modification time (hashing every file would read the
    whole data set twice); an image given as bytes counts by its SHA-256.
    """
    if isinstance(record.image, bytes):
        image = "sha256:" + hashlib.sha256(record.image).hexdigest()
    else:
        try:
            status = os.stat(record.image)
            image = f"{record.image}|{status.st_size}|{status.st_mtime_ns}"
        except OSError as error:
            image = f"{record.image}|{type(error).__name__}"
    return json.dumps([record.image_id, record.split, record.captions, image]).encode() + b"\n"


class ShardDigests:
    """SHA-256 of the fingerprints of each shard's records, fed in stream order."""

    def __init__(self):
        self._hashes = {}

    def add(self, split: str, shard_index: int, record: Record) -> None:
        key = (split, shard_index)
        if key not in self._hashes:
            self._hashes[key] = hashlib.sha256()
        self._hashes[key].update(record_fingerprint(record))

    def hexdigest(self, split: str, shard_index: int) -> str:
        """The digest of a shard's inputs; a shard that received none has the empty digest."""
        return self._hashes.get((split, shard_index), hashlib.sha256()).hexdigest()


@dataclasses.dataclass
class SourceScan:
    """What the first pass found.

    Args:
        images: dict of split to int. Records planned per split (duplicates left out).
        images_per_shard: int. Planned records per shard.
        train_captions: list of str. Captions of the planned train records, for Word2Vec.
        image_splits: dict of str to str. Split of every planned image id.
        duplicates: set of int. Positions (among the source's Records) of repeated image ids.
        shard_digests: ShardDigests. Fingerprints of each planned shard's inputs.
        num_problems: int. Problems written to the problems file.
    """

    images: dict[str, int]
    images_per_shard: int
    train_captions: list[str]
    image_splits: dict[str, str]
    duplicates: set[int]
    shard_digests: ShardDigests
    num_problems: int

    def num_shards(self, split: str) -> int:
        """Shards of a split: one per images_per_shard records, at least one."""
        return max(1, math.ceil(self.images[split] / self.images_per_shard))

    def shard_of(self, position: int) -> int:
        """The shard of a split's record at `position` (counted from 0 among planned records)."""
        return position // self.images_per_shard


def planned_records(source: Source, duplicates: set[int]) -> Iterator[Record | Problem]:
    """The source's items with repeated ids left out: Problems, then Records in stream order."""
    position = -1
    for item in source.records():
        if isinstance(item, Record):
            position += 1
            if position in duplicates:
                continue
        yield item


def scan_source(
    source: Source, images_per_shard: int, problems_path: str | os.PathLike, fail_on_problem: bool
) -> SourceScan:
    """Reads the source once, writing each Problem (and repeated id) as a JSON line to problems_path.

    Raises:
        BuildError: with fail_on_problem, at the first problem, naming its file or line.
        SourceFormatError: an index file cannot be read (from the reader).
    """
    images = dict.fromkeys(SPLITS, 0)
    train_captions = []
    first_seen = {}  # image id -> (split, origin)
    duplicates = set()
    shard_digests = ShardDigests()
    num_problems = 0
    with open(problems_path, "w", encoding="utf-8") as problems:

        def report(item: str, origin: str, reason: str) -> None:
            nonlocal num_problems
            if fail_on_problem:
                raise BuildError(problem_message(item, origin, reason))
            num_problems += 1
            line = {"item": item, "origin": origin, "reason": reason}
            problems.write(json.dumps(line, ensure_ascii=False) + "\n")

        position = -1
        for item in source.records():
            if isinstance(item, Problem):
                report(item.item, item.origin, item.reason)
                continue
            position += 1
            if item.image_id in first_seen:
                duplicates.add(position)
                first_split, first_origin = first_seen[item.image_id]
                report(
                    item.image_id,
                    item.origin,
                    f"duplicate image id, first seen at {first_origin} ({first_split}); dropped",
                )
                continue
            first_seen[item.image_id] = (item.split, item.origin)
            shard_digests.add(item.split, images[item.split] // images_per_shard, item)
            images[item.split] += 1
            if item.split == "train":
                train_captions.extend(item.captions)
    return SourceScan(
        images=images,
        images_per_shard=images_per_shard,
        train_captions=train_captions,
        image_splits={image_id: split for image_id, (split, _) in first_seen.items()},
        duplicates=duplicates,
        shard_digests=shard_digests,
        num_problems=num_problems,
    )
