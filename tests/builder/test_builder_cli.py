"""The command line: prints its config and a summary, and fails with one clear line and exit code 1."""

import subprocess
import sys

import pytest

import tfrecords_builder


def run_builder(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfrecords_builder", *flags],
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_fails_with(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert message in line


@pytest.mark.slow
def test_command_line_builds_and_explains_failures(tmp_path, tiny_data):
    raw = tiny_data.dataset(counts={"train": 6, "val": 1, "test": 1})
    output_dir = tmp_path / "out"
    flags = (
        "--dataset=custom",
        f"--data_dir={raw}",
        f"--output_dir={output_dir}",
        "--num_workers=1",
    )
    result = run_builder(*flags, "--images_per_shard=4")
    assert result.returncode == 0, result.stderr
    assert '"images_per_shard": 4' in result.stdout  # the resolved config comes first
    assert "train: 6 images, 12 captions, 2 shards, 0 images skipped" in result.stdout
    assert tfrecords_builder.is_complete(output_dir)

    broken = tiny_data.dataset("broken", counts={"train": 3}, rows=[("gone.jpg", "a cat", "train")])
    assert_fails_with(
        run_builder("--dataset=custom", f"--data_dir={broken}", f"--output_dir={tmp_path / 'b'}"),
        "more than --max_skipped_fraction=0.01 of the data was skipped: train: 1 of 4 images",
    )

    flickr = tmp_path / "flickr"
    flickr.mkdir()
    (flickr / "0.jpg").write_bytes(tiny_data.jpeg(tiny_data.pixels(0)))
    (flickr / "dataset_flickr8k.json").write_text('{"images": [\n  {"filename": "0.jpg",,}\n]}\n')
    assert_fails_with(
        run_builder("--dataset=flickr8k", f"--data_dir={flickr}", f"--output_dir={tmp_path / 'f'}"),
        f"{flickr / 'dataset_flickr8k.json'}:2: invalid JSON",
    )
