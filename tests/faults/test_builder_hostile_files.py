"""The builder on hostile input: paths out of the data folder, devices, pipes, huge files, an unwritable output."""

import json
import os
import pathlib
import subprocess

import cv2
import numpy as np
import pytest

import tfrecords_builder
from fusion_tf.data import schema
from tfrecords_builder import BuildConfig
from tfrecords_builder.images import ImageError, read_image

SECRET = b"admin:x:0:0:hunter2:/home/admin:/bin/bash\n"


def _jpeg(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", cv2.resize(pixels, (48, 40)))[1].tobytes()


def _hostile_dataset(root: pathlib.Path) -> pathlib.Path:
    """A custom data set whose CSV names a file outside its folder, devices, a pipe and a text file."""
    outside = root / "elsewhere"
    outside.mkdir()
    (outside / "outside.jpg").write_bytes(_jpeg(100))
    (outside / "passwd").write_bytes(SECRET)
    folder = root / "raw"
    folder.mkdir()
    rows = []
    for index in range(8):
        (folder / f"good{index}.jpg").write_bytes(_jpeg(index))
        rows.append(f"good{index}.jpg,a red dog runs on the grass,train")
    (folder / "notes.jpg").write_bytes(SECRET)
    (folder / "big.jpg").write_bytes(_jpeg(200) + b"\x00" * 40_000)
    os.symlink("/dev/zero", folder / "zero.jpg")
    os.mkfifo(folder / "pipe.jpg")
    hostile = [
        "../elsewhere/passwd",
        str(outside / "outside.jpg"),
        "notes.jpg",
        "big.jpg",
        "zero.jpg",
        "pipe.jpg",
    ]
    rows += [f"{name},a blue cat sits in the snow,train" for name in hostile]
    (folder / "captions.csv").write_text("image,caption,split\n" + "\n".join(rows) + "\n")
    return folder


def _skipped(output_dir: pathlib.Path) -> dict[str, str]:
    lines = (output_dir / schema.SKIPPED_FILE).read_text().splitlines()
    return {line["item"]: line["reason"] for line in map(json.loads, lines)}


def _train_ids(output_dir: pathlib.Path) -> set[str]:
    manifest = json.loads((output_dir / schema.MANIFEST_FILE).read_text())
    return {
        schema.parse_example_numpy(serialized)[schema.IMAGE_ID]
        for shard in manifest["splits"]["train"]["shards"]
        for serialized in _records(output_dir / shard["file"])
    }


def _records(path: pathlib.Path):
    import tensorflow as tf

    return (record.numpy() for record in tf.data.TFRecordDataset(str(path)))


@pytest.mark.slow
def test_build_refuses_outside_paths_and_special_files_and_never_echoes_contents(tmp_path):
    raw = _hostile_dataset(tmp_path)
    settings = dict(max_image_bytes=20_000, max_skipped_fraction=1.0, num_workers=1)
    output_dir = tmp_path / "out"
    tfrecords_builder.build(BuildConfig("custom", str(output_dir), str(raw), **settings))

    skipped = _skipped(output_dir)
    outside = str(tmp_path / "elsewhere" / "outside.jpg")
    for item in ("../elsewhere/passwd", outside):
        assert "outside the caption file's folder" in skipped[item]
        assert "--allow_outside_data_dir" in skipped[item]
    assert (
        "not a regular file" in skipped["zero.jpg"] and str(raw / "zero.jpg") in skipped["zero.jpg"]
    )
    assert (
        "not a regular file" in skipped["pipe.jpg"] and str(raw / "pipe.jpg") in skipped["pipe.jpg"]
    )
    assert "more than max_image_bytes=20,000" in skipped["big.jpg"]
    assert skipped["notes.jpg"] == "not an image OpenCV can decode (42 bytes of text)"
    written = (output_dir / schema.SKIPPED_FILE).read_text()
    assert "hunter2" not in written and "admin" not in written
    assert _train_ids(output_dir) == {f"good{index}.jpg" for index in range(8)}

    opted_in = tmp_path / "opted_in"
    tfrecords_builder.build(
        BuildConfig("custom", str(opted_in), str(raw), allow_outside_data_dir=True, **settings)
    )
    assert outside in _train_ids(opted_in)
    reason = _skipped(opted_in)["../elsewhere/passwd"]
    assert reason == "not an image OpenCV can decode (42 bytes of text)"


def test_read_image_refuses_devices_pipes_and_files_over_the_cap(tmp_path):
    os.mkfifo(tmp_path / "pipe.jpg")
    (tmp_path / "big.jpg").write_bytes(b"\xff" * 101)
    with pytest.raises(ImageError, match="pipe.jpg: not a regular file"):
        read_image(str(tmp_path / "pipe.jpg"), 100)  # would block for a writer if opened plainly
    with pytest.raises(ImageError, match="/dev/zero: not a regular file"):
        read_image("/dev/zero", 100)
    with pytest.raises(ImageError, match="big.jpg: 101 bytes, more than max_image_bytes=100"):
        read_image(str(tmp_path / "big.jpg"), 100)
    with pytest.raises(ImageError, match="more than max_image_bytes=100"):
        read_image(b"\xff" * 101, 100)
    assert read_image(b"\xff" * 100, 100) == b"\xff" * 100


@pytest.fixture
def read_only_folder(tmp_path):
    """An existing folder this process cannot write in: chmod, or for root the immutable flag."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    # root writes through any mode bits; the immutable attribute stops it too.
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i")
    yield folder
    subprocess.run(["chattr", "-i", str(folder)], check=True)


@pytest.mark.slow
def test_unwritable_output_dir_fails_with_one_line_naming_it(read_only_folder, build_command):
    arguments, environment = build_command("--dataset=shapes", f"--output_dir={read_only_folder}")
    result = subprocess.run(arguments, capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert line.startswith(f"error: --output_dir={read_only_folder} cannot be written: ")
