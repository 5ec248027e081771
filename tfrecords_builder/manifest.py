"""manifest.json, written last: what a complete build holds, and the check that its files are all there.

Keys: ``dataset``; ``source`` (Source.describe()); ``created`` (UTC, ISO 8601); ``config`` (the
BuildConfig); ``num_classes`` (train images written: classes 0 .. num_classes - 1, in source
order); ``splits``: per split ``{"images", "captions", "shards": [{"file", "images",
"captions", "bytes", "sha256"}]}``; ``image`` (how photos were stored); ``encoder`` (its folder,
layout, vocabulary size and word vector settings); ``encoding_statistics`` per split and in total
(captions, words, out-of-vocabulary and dropped words, empty captions); ``skipped``: images
skipped per split, those without a split, and the lines of skipped.jsonl.
"""

import datetime
import hashlib
import os
import pathlib

from fusion_tf.data.manifest import DataDirectoryError, read_manifest
from fusion_tf.data.records import SPLITS
from fusion_tf.data.schema import BUILD_ENCODER_DIR, MANIFEST_FILE, SKIPPED_FILE
from fusion_tf.text import EncodingStatistics, TextImageEncoder
from tfrecords_builder.atomic_files import write_json_atomically
from tfrecords_builder.config import BuildConfig

_SHARD_KEYS = ("file", "images", "captions", "bytes", "sha256")


def make_manifest(
    config: BuildConfig,
    source_description: dict,
    shard_records: dict[str, list[dict]],
    encoder: TextImageEncoder,
    skipped: dict[str, int],
) -> dict:
    """The manifest of a finished build; shard_records holds each split's shard records in order."""
    splits = {}
    statistics = {}
    total = EncodingStatistics()
    for split in SPLITS:
        records = shard_records[split]
        splits[split] = {
            "images": sum(record["images"] for record in records),
            "captions": sum(record["captions"] for record in records),
            "shards": [{key: record[key] for key in _SHARD_KEYS} for record in records],
        }
        split_statistics = EncodingStatistics()
        for record in records:
            split_statistics.add(EncodingStatistics(**record["encoding_statistics"]))
        statistics[split] = split_statistics.as_dict()
        total.add(split_statistics)
    statistics["total"] = total.as_dict()
    return {
        "dataset": config.dataset,
        "source": source_description,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": config.as_dict(),
        "num_classes": splits["train"]["images"],
        "splits": splits,
        "image": {
            "format": "jpeg",
            "size": config.image_size,
            "jpeg_quality": config.jpeg_quality,
            "resize": "to a square, ignoring the aspect ratio",
            "alpha": "composited onto white",
            "max_image_pixels": config.max_image_pixels,
        },
        "encoder": {
            "dir": BUILD_ENCODER_DIR,
            "layout": encoder.layout.to_config(),
            "capacity": encoder.capacity,
            "vocabulary_size": len(encoder.vectors),
            "word_vectors": encoder.vectors.settings,
        },
        "encoding_statistics": statistics,
        "skipped": {**skipped, "file": SKIPPED_FILE},
    }


def write_manifest(output_dir: str | os.PathLike, manifest: dict) -> None:
    write_json_atomically(pathlib.Path(output_dir) / MANIFEST_FILE, manifest)


def _sha256(path: pathlib.Path) -> str:
    checksum = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            checksum.update(block)
    return checksum.hexdigest()


def missing_files(output_dir: str | os.PathLike, verify_checksums: bool = False) -> list[str]:
    """What a complete build in output_dir lacks: absent or changed files listed by its manifest."""
    output_dir = pathlib.Path(output_dir)
    try:
        manifest = read_manifest(output_dir)
    except DataDirectoryError:  # no manifest, or one that does not parse
        return [MANIFEST_FILE]
    missing = [] if (output_dir / BUILD_ENCODER_DIR).is_dir() else [BUILD_ENCODER_DIR]
    try:
        shards = [shard for split in SPLITS for shard in manifest["splits"][split]["shards"]]
    except (KeyError, TypeError):
        return [f"{MANIFEST_FILE} (no shard list)"]
    for shard in shards:
        path = output_dir / shard["file"]
        if not path.is_file() or path.stat().st_size != shard["bytes"]:
            missing.append(shard["file"])
        elif verify_checksums and _sha256(path) != shard["sha256"]:
            missing.append(f"{shard['file']} (checksum differs)")
    return missing


def is_complete(output_dir: str | os.PathLike, verify_checksums: bool = False) -> bool:
    """Whether output_dir holds a finished build: its manifest and every shard it lists.

    Shards are compared by size; verify_checksums also compares their SHA-256 (reads every file).
    """
    return not missing_files(output_dir, verify_checksums)
