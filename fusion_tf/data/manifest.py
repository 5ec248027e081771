"""Reads a built data set's manifest.json and finds its shards, with errors that say what to run."""

import json
import os
import pathlib

from fusion_tf.data import schema


class DataDirectoryError(ValueError):
    """A data directory that is missing, incomplete or not what the run expects."""


def read_manifest(data_dir: str | os.PathLike) -> dict:
    """The manifest of a complete build; a missing or partial build raises DataDirectoryError."""
    data_dir = pathlib.Path(data_dir)
    path = data_dir / schema.MANIFEST_FILE
    if not path.is_file():
        raise DataDirectoryError(
            f"{data_dir} holds no complete build ({schema.MANIFEST_FILE} is missing). Build it with:\n"
            f"  fusion-build-tfrecords --dataset=NAME --data_dir=RAW --output_dir={data_dir}"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataDirectoryError(f"{path}: not valid JSON ({error})") from error


def split_files(data_dir: str | os.PathLike, split: str, manifest: dict | None = None) -> list[str]:
    """The shard files of a split, in order, checked to exist."""
    data_dir = pathlib.Path(data_dir)
    manifest = read_manifest(data_dir) if manifest is None else manifest
    splits = manifest.get("splits", {})
    if split not in splits or not splits[split]["shards"]:
        available = sorted(name for name, info in splits.items() if info.get("shards"))
        raise DataDirectoryError(
            f"{data_dir} has no '{split}' split; it has: {', '.join(available) or 'none'}"
        )
    files = [data_dir / shard["file"] for shard in splits[split]["shards"]]
    missing = [str(file) for file in files if not file.is_file()]
    if missing:
        raise DataDirectoryError(
            f"{len(missing)} shard(s) listed in {data_dir / schema.MANIFEST_FILE} are missing, "
            f"e.g. {missing[0]}; rebuild with --overwrite"
        )
    return [str(file) for file in files]


def encoder_dir(data_dir: str | os.PathLike) -> pathlib.Path:
    """Where the build saved its word vectors and encoder layout."""
    return pathlib.Path(data_dir) / schema.BUILD_ENCODER_DIR
