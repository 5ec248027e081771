"""The hidden folder of a build in progress: its settings, finished shards' records and temporary files.

Layout of ``OUT/.build_state/``: ``settings.json`` (the output settings the build started with),
``shards/NAME.json`` (one record per finished shard, written after the shard was moved into
place, so a record always means a complete shard), ``problems.jsonl`` (the problems the last scan
of the source found), ``tmp/`` (shards being written) and ``encoder.tmp/`` (the encoder being
saved). The folder is removed once manifest.json is written.
"""

import contextlib
import fcntl
import json
import os
import pathlib
import shutil
from collections.abc import Iterator

from fusion_tf.data.schema import BUILD_ENCODER_DIR, MANIFEST_FILE, SKIPPED_FILE, parse_shard_name
from tfrecords_builder.atomic_files import write_json_atomically
from tfrecords_builder.errors import BuildError

STATE_DIR = ".build_state"


def shard_files(output_dir: str | os.PathLike) -> list[pathlib.Path]:
    """The files in output_dir named like shards, sorted."""
    return sorted(
        path for path in pathlib.Path(output_dir).iterdir() if parse_shard_name(path.name)
    )


def build_outputs(output_dir: str | os.PathLike) -> list[pathlib.Path]:
    """Everything a build writes in output_dir that exists now (other files are never touched)."""
    output_dir = pathlib.Path(output_dir)
    named = [
        output_dir / name for name in (MANIFEST_FILE, SKIPPED_FILE, BUILD_ENCODER_DIR, STATE_DIR)
    ]
    return [path for path in named if path.exists()] + shard_files(output_dir)


def remove_build_outputs(output_dir: str | os.PathLike) -> None:
    """Deletes an earlier build's files (see build_outputs) for --overwrite."""
    for path in build_outputs(output_dir):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


@contextlib.contextmanager
def locked(output_dir: str | os.PathLike) -> Iterator[None]:
    """Holds an exclusive lock on output_dir, so two builds never write into one folder."""
    descriptor = os.open(output_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise BuildError(
                f"another build is writing to {output_dir}; wait for it to end"
            ) from error
        yield
    finally:
        os.close(descriptor)


class BuildState:
    """The state folder of a build in output_dir.

    Args:
        output_dir: path. The build's output folder.
    """

    def __init__(self, output_dir: str | os.PathLike):
        self.output_dir = pathlib.Path(output_dir)
        self.directory = self.output_dir / STATE_DIR
        self.settings_path = self.directory / "settings.json"
        self.problems_path = self.directory / "problems.jsonl"
        self.temporary_dir = self.directory / "tmp"
        self.encoder_temporary_dir = self.directory / "encoder.tmp"
        self._shards_dir = self.directory / "shards"

    def settings(self) -> dict | None:
        """The output settings the build started with, or None if no build was started here."""
        if not self.settings_path.is_file():
            return None
        return json.loads(self.settings_path.read_text(encoding="utf-8"))

    def start(self, settings: dict) -> None:
        """Creates the state folder and records the settings, before anything else is written."""
        self._shards_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.settings_path, settings)

    def clear_temporary(self) -> None:
        """Removes what a killed build left half-written, and makes room for new temporary files."""
        for path in (self.temporary_dir, self.encoder_temporary_dir):
            shutil.rmtree(path, ignore_errors=True)
        self.temporary_dir.mkdir()

    def shard_record(self, name: str) -> dict | None:
        path = self._shards_dir / f"{name}.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def save_shard_record(self, record: dict) -> None:
        write_json_atomically(self._shards_dir / f"{record['file']}.json", record)

    def recorded_shards(self) -> list[str]:
        """Names of the shards that have a record."""
        return sorted(path.name.removesuffix(".json") for path in self._shards_dir.glob("*.json"))

    def forget_shard(self, name: str) -> None:
        """Deletes a shard's record, then its file (so that a record never outlives its shard)."""
        (self._shards_dir / f"{name}.json").unlink(missing_ok=True)
        (self.output_dir / name).unlink(missing_ok=True)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
