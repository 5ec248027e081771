"""Builder test fixtures: tiny custom data sets made on the fly, and a reader of built shards."""

import itertools
import json
import os
import pathlib

import cv2
import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.data import schema

COLOURS = ("red", "blue", "green", "black", "white")
ANIMALS = ("dog", "cat", "horse", "bird")
PLACES = ("grass", "beach", "street", "snow")


class TinyData:
    """Makes small image files and custom CSV data sets (image,caption,split) under a folder.

    Args:
        root: pathlib.Path. Where data set folders are made.
    """

    def __init__(self, root: pathlib.Path):
        self.root = root

    @staticmethod
    def pixels(seed: int, height: int = 40, width: int = 48, channels: int = 3) -> np.ndarray:
        """A smooth random uint8 image (smooth, so JPEG keeps it close)."""
        rng = np.random.default_rng(seed)
        small = rng.integers(0, 256, (4, 4, channels), dtype=np.uint8)
        image = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
        return image.reshape(height, width, channels)

    @staticmethod
    def jpeg(pixels: np.ndarray, quality: int = 92) -> bytes:
        return cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()

    @staticmethod
    def png(pixels: np.ndarray) -> bytes:
        return cv2.imencode(".png", pixels)[1].tobytes()

    @staticmethod
    def captions(index: int, count: int = 2) -> list[str]:
        """Captions from a small vocabulary, so every word occurs often enough for Word2Vec."""
        return [
            f"A {COLOURS[(index + k) % len(COLOURS)]} {ANIMALS[(index * 3 + k) % len(ANIMALS)]} "
            f"runs on the {PLACES[(index + 2 * k) % len(PLACES)]}."
            for k in range(count)
        ]

    def dataset(
        self,
        name: str = "raw",
        counts: dict | None = None,
        files: dict[str, bytes] | None = None,
        rows: list[tuple[str, str, str]] = (),
        extra_lines: list[str] = (),
    ) -> pathlib.Path:
        """A custom data set folder: `counts` good JPEG photos per split, plus given files and rows.

        Good photos are named {split}{index}.jpg; `rows` are (image, caption, split) rows added
        after theirs, and `extra_lines` raw lines after those (for malformed rows).
        """
        folder = self.root / name
        folder.mkdir(parents=True)
        counts = {"train": 6, "val": 2, "test": 2} if counts is None else counts
        all_rows = []
        number = 0
        for split, count in counts.items():
            for index in range(count):
                file_name = f"{split}{index}.jpg"
                (folder / file_name).write_bytes(self.jpeg(self.pixels(number)))
                all_rows += [(file_name, caption, split) for caption in self.captions(number)]
                number += 1
        for file_name, data in (files or {}).items():
            (folder / file_name).write_bytes(data)
        all_rows += list(rows)
        lines = ["image,caption,split"] + [",".join(row) for row in all_rows] + list(extra_lines)
        (folder / "captions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return folder


@pytest.fixture
def tiny_data(tmp_path) -> TinyData:
    return TinyData(tmp_path)


def _read_split(output_dir: pathlib.Path, split: str) -> list[dict]:
    manifest = json.loads((pathlib.Path(output_dir) / schema.MANIFEST_FILE).read_text())
    files = [str(output_dir / shard["file"]) for shard in manifest["splits"][split]["shards"]]
    if not files:
        return []
    return [
        schema.parse_example_numpy(serialized.numpy())
        for serialized in tf.data.TFRecordDataset(files)
    ]


@pytest.fixture
def read_split():
    """read_split(output_dir, split): the split's Examples, parsed, in shard and file order."""
    return _read_split


@pytest.fixture
def read_skipped():
    """read_skipped(output_dir): the lines of skipped.jsonl as dicts."""

    def read(output_dir: pathlib.Path) -> list[dict]:
        text = (pathlib.Path(output_dir) / schema.SKIPPED_FILE).read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines()]

    return read


@pytest.fixture
def hold_files(tmp_path):
    """hold_files(paths) -> kept: hard-links each file under tmp_path, and kept() then says, per
    file, whether the path still names that same file or was rewritten. The links keep the old
    inodes in use: a filesystem may hand a rewritten file the number of the one it replaced once
    that is gone, so comparing st_ino alone can miss a rewrite."""
    folders = (tmp_path / f"held-{number}" for number in itertools.count())

    def hold(paths: list[pathlib.Path]):
        folder = next(folders)
        folder.mkdir()
        links = [folder / f"{number}-{path.name}" for number, path in enumerate(paths)]
        for path, link in zip(paths, links, strict=True):
            os.link(path, link)
        return lambda: [path.samefile(link) for path, link in zip(paths, links, strict=True)]

    return hold
