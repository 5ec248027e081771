"""A disk that fills during a build: one line naming the folder, no manifest, and the resumed build completes."""

import os
import subprocess

import pytest

from tfrecords_builder.manifest import missing_files

SHAPES = [
    "--dataset=shapes",
    "--shapes_num_train=300",
    "--shapes_num_val=20",
    "--shapes_num_test=20",
]


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs: a real file system that fills (mounting needs root; skip elsewhere)."""
    folder = tmp_path / "small_disk"
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root and a kernel that allows it here")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def _build(build_command, output_dir):
    arguments, environment = build_command(*SHAPES, f"--output_dir={output_dir}")
    return subprocess.run(arguments, capture_output=True, text=True, timeout=600, env=environment)


@pytest.mark.slow
def test_a_full_disk_stops_the_build_in_one_line_and_the_same_command_resumes(
    small_disk, build_command
):
    output_dir = small_disk / "shards"
    full = _build(build_command, output_dir)
    assert full.returncode == 1, full.stderr[-2000:]
    assert "Traceback" not in full.stderr
    [line] = [line for line in full.stderr.splitlines() if line.startswith("error: ")]
    assert line.startswith(f"error: no space left on the device of --output_dir={output_dir} (")
    assert "run the same command to resume" in line
    assert not (output_dir / "manifest.json").exists()  # nothing looks complete

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    resumed = _build(build_command, output_dir)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming the partial build" in resumed.stderr
    assert missing_files(output_dir) == []  # every shard there, with the manifest's checksum
    assert "train: 300 images" in resumed.stdout
