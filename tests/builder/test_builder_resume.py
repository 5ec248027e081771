"""SimulatedKillError builds resume to the clean result; other settings, overwrite and damaged outputs are handled."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import tfrecords_builder
from fusion_tf.data import schema
from tfrecords_builder import BuildConfig, BuildError, builder
from tfrecords_builder.build_state import STATE_DIR, locked

COUNTS = {"train": 11, "val": 2, "test": 2}  # 4 train shards of 3 images


class SimulatedKillError(Exception):
    """Stands for the build being killed."""


def shard_checksums(manifest: dict) -> dict[str, str]:
    return {
        shard["file"]: shard["sha256"]
        for split in manifest["splits"].values()
        for shard in split["shards"]
    }


def interrupt_at_shard(monkeypatch, shard_number: int, after_rename: bool = False) -> None:
    """Makes the next build stop as it finishes its shard_number-th shard (from 0): before moving
    the shard into place, or (after_rename) after moving it but before saving its record."""
    target, name = (
        (builder.BuildState, "save_shard_record")
        if after_rename
        else (builder._ShardAssembler, "finish")
    )
    original = getattr(target, name)
    calls = 0

    def stop(self, *args):
        nonlocal calls
        if calls == shard_number:
            raise SimulatedKillError
        calls += 1
        return original(self, *args)

    monkeypatch.setattr(target, name, stop)


@pytest.fixture
def raw(tiny_data):
    return tiny_data.dataset(counts=COUNTS)


def config(output_dir, raw, **changes) -> BuildConfig:
    settings = dict(images_per_shard=3, num_workers=2)
    settings.update(changes)
    return BuildConfig("custom", str(output_dir), str(raw), **settings)


@pytest.mark.parametrize("after_rename", [False, True])
def test_interrupted_build_resumes_to_the_clean_result(
    tmp_path, raw, monkeypatch, hold_files, after_rename
):
    clean = tfrecords_builder.build(config(tmp_path / "clean", raw))

    output_dir = tmp_path / "out"
    with monkeypatch.context() as patch:
        interrupt_at_shard(patch, 2, after_rename)
        with pytest.raises(SimulatedKillError):
            tfrecords_builder.build(config(output_dir, raw))
    assert not (output_dir / schema.MANIFEST_FILE).exists()
    assert not tfrecords_builder.is_complete(output_dir)
    finished = sorted(path.name for path in output_dir.glob("*.tfrecord"))
    expected_finished = ["train-00000-of-00004.tfrecord", "train-00001-of-00004.tfrecord"]
    if after_rename:  # killed between moving the shard into place and recording it
        expected_finished.append("train-00002-of-00004.tfrecord")
    assert finished == expected_finished
    assert list((output_dir / STATE_DIR / "tmp").iterdir())  # a shard was half-written
    kept = hold_files([output_dir / name for name in finished[:2]])

    resumed = tfrecords_builder.build(config(output_dir, raw, num_workers=1))
    assert shard_checksums(resumed) == shard_checksums(clean)
    assert {key: resumed[key] for key in ("splits", "num_classes", "skipped")} == {
        key: clean[key] for key in ("splits", "num_classes", "skipped")
    }
    assert kept() == [True, True]  # recorded shards are kept, not rewritten
    assert not (output_dir / STATE_DIR).exists()
    assert tfrecords_builder.is_complete(output_dir, verify_checksums=True)


def test_changed_input_rebuilds_its_shard_and_those_after_it(
    tmp_path, raw, tiny_data, monkeypatch, hold_files
):
    output_dir = tmp_path / "out"
    with monkeypatch.context() as patch:
        interrupt_at_shard(patch, 3)
        with pytest.raises(SimulatedKillError):
            tfrecords_builder.build(config(output_dir, raw))
    shards = [output_dir / f"train-0000{index}-of-00004.tfrecord" for index in range(3)]
    kept = hold_files(shards)
    (raw / "train4.jpg").write_bytes(tiny_data.jpeg(tiny_data.pixels(1234)))  # in shard 1

    tfrecords_builder.build(config(output_dir, raw))
    assert kept() == [
        True,
        False,
        False,  # its classes follow shard 1's, so it is rebuilt too
    ]


def test_other_settings_are_refused_with_a_hint_to_overwrite(tmp_path, raw, monkeypatch):
    output_dir = tmp_path / "out"
    with monkeypatch.context() as patch:
        interrupt_at_shard(patch, 1)
        with pytest.raises(SimulatedKillError):
            tfrecords_builder.build(config(output_dir, raw))
    with pytest.raises(
        BuildError,
        match=r"a partial build made with other settings \(images_per_shard=3 there, 4 now\).*--overwrite",
    ):
        tfrecords_builder.build(config(output_dir, raw, images_per_shard=4))

    first = tfrecords_builder.build(config(output_dir, raw))
    with pytest.raises(
        BuildError,
        match=r"a finished build made with other settings \(jpeg_quality=95 there, 90 now\).*--overwrite",
    ):
        tfrecords_builder.build(config(output_dir, raw, jpeg_quality=90))
    # Settings that only change how a build runs are not output settings.
    assert tfrecords_builder.build(config(output_dir, raw, num_workers=1, on_error="fail")) == first

    (output_dir / "notes.txt").write_text("someone else's file")
    rebuilt = tfrecords_builder.build(config(output_dir, raw, images_per_shard=4, overwrite=True))
    assert len(rebuilt["splits"]["train"]["shards"]) == 3
    assert sorted(path.name for path in output_dir.glob("train-*")) == [
        f"train-0000{index}-of-00003.tfrecord" for index in range(3)
    ]
    assert (output_dir / "notes.txt").read_text() == "someone else's file"


def test_damaged_or_foreign_outputs_are_reported(tmp_path, raw):
    output_dir = tmp_path / "out"
    tfrecords_builder.build(config(output_dir, raw))
    (output_dir / "val-00000-of-00001.tfrecord").unlink()
    assert not tfrecords_builder.is_complete(output_dir)
    with pytest.raises(
        BuildError, match=r"missing or changed \(val-00000-of-00001\.tfrecord\).*--overwrite"
    ):
        tfrecords_builder.build(config(output_dir, raw))

    (output_dir / schema.MANIFEST_FILE).unlink()
    with pytest.raises(BuildError, match="no record of the build that wrote them.*--overwrite"):
        tfrecords_builder.build(config(output_dir, raw))
    assert tfrecords_builder.build(config(output_dir, raw, overwrite=True))["num_classes"] == 11


def test_two_builds_never_share_a_folder(tmp_path, raw):
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    with locked(output_dir), pytest.raises(BuildError, match="another build is writing"):
        tfrecords_builder.build(config(output_dir, raw))


@pytest.mark.slow
def test_build_killed_with_sigkill_resumes_to_the_clean_result(tmp_path):
    shapes = {"seed": 3, "num_train": 400, "num_val": 20, "num_test": 20}
    output_dir = tmp_path / "killed"
    command = [
        sys.executable, "-m", "tfrecords_builder", "--dataset=shapes", f"--output_dir={output_dir}",
        "--images_per_shard=50", "--num_workers=1",
        *(f"--shapes_{name}={value}" for name, value in shapes.items()),
    ]  # fmt: skip
    records = output_dir / STATE_DIR / "shards"
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while not (records.is_dir() and any(records.glob("*.json"))):
            assert process.poll() is None, "the build ended before its first shard was recorded"
            assert time.monotonic() < deadline, "no shard finished within two minutes"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the build and its workers
        process.wait()
    assert not (output_dir / schema.MANIFEST_FILE).exists()
    assert 1 <= len(list(records.glob("*.json"))) < 8

    def shapes_config(path) -> BuildConfig:
        return BuildConfig(
            "shapes", str(path), source_options=shapes, images_per_shard=50, num_workers=2
        )

    resumed = tfrecords_builder.build(shapes_config(output_dir))
    clean = tfrecords_builder.build(shapes_config(tmp_path / "clean"))
    assert shard_checksums(resumed) == shard_checksums(clean)
    assert resumed["num_classes"] == 400
    assert json.loads((output_dir / schema.MANIFEST_FILE).read_text()) == resumed
