"""Shared test fixtures: ../shared/data, small built shards, a tiny trained run, hostile PNG bytes, quiet TensorFlow logs."""

import json
import os
import pathlib
import struct
import subprocess
import sys
import textwrap
import zlib

import cv2
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


# Logical devices must be configured before TensorFlow initialises, so replica tests run their
# script in a fresh interpreter that first splits the CPU into two devices.
_TWO_CPU_REPLICAS = """
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""


@pytest.fixture
def run_on_two_cpu_replicas():
    """Runs a script on two logical CPUs (for MirroredStrategy); returns its last line's JSON."""

    def run(script: str) -> dict:
        environment = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), TF_CPP_MIN_LOG_LEVEL="3")
        completed = subprocess.run(
            [sys.executable, "-c", _TWO_CPU_REPLICAS + textwrap.dedent(script)],
            cwd=PROJECT_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        return json.loads(completed.stdout.strip().splitlines()[-1])

    return run


def _shared_dir(name: str) -> pathlib.Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(
            f"{path} is absent: it ships beside the project checkout in CI, not in a fresh clone"
        )
    return path


@pytest.fixture(scope="session")
def flickr8k_sample_dir() -> pathlib.Path:
    """The 875-photo Flickr8k sample with token and Karpathy JSON files."""
    return _shared_dir("flickr8k_sample")


@pytest.fixture(scope="session")
def flickr8k_trainval_dir() -> pathlib.Path:
    """The official Flickr8k train (6000) and dev (1000) splits at 160x160."""
    return _shared_dir("flickr8k_trainval")


def _png(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))[1].tobytes()


def _jpeg(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]))[1].tobytes()


def _write_shards(directory, images_per_split=None, caption_counts=None, dataset="shapes"):
    """A built data set in miniature: shards of coloured photos and encoded captions + manifest."""
    import tensorflow as tf

    from fusion_tf import text
    from fusion_tf.data import schema

    images_per_split = images_per_split or {"train": 8, "val": 3}
    words = ["red", "green", "blue", "square", "circle", "small", "big"]
    vectors = text.WordVectors(words, np.random.default_rng(0).normal(size=(len(words), 6)))
    encoder = text.TextImageEncoder(vectors)
    encoder.save(directory / schema.BUILD_ENCODER_DIR)
    manifest = {"dataset": dataset, "splits": {}, "num_classes": images_per_split["train"]}
    rng = np.random.default_rng(1)
    for split, count in images_per_split.items():
        shard_count = 2 if count > 3 else 1
        shards = []
        for shard in range(shard_count):
            name = schema.shard_name(split, shard, shard_count)
            indices = range(shard, count, shard_count)
            with tf.io.TFRecordWriter(str(directory / name)) as writer:
                for index in indices:
                    photo = np.full((256, 256, 3), (index * 20) % 256, np.uint8)
                    n = (caption_counts or {}).get((split, index), 5)
                    captions = [" ".join(rng.choice(words, 3)) for _ in range(n)]
                    example = schema.make_example(
                        _jpeg(photo),
                        f"{split}_{index}",
                        index if split == "train" else schema.NO_CLASS,
                        captions,
                        [_png(canvas) for canvas in encoder.encode(captions)],
                    )
                    writer.write(example.SerializeToString())
            shards.append({"file": name, "images": len(indices)})
        manifest["splits"][split] = {"images": count, "shards": shards}
    (directory / schema.MANIFEST_FILE).write_text(json.dumps(manifest))
    return encoder


@pytest.fixture(scope="session")
def write_shards():
    """write_shards(directory, images_per_split={"train": 8, "val": 3}) builds tiny shards."""
    return _write_shards


# The settings every tiny training test starts from: the tiny network on 75 px squares, fast
# enough for the default suite.
_TINY_TRAINING = dict(
    preset="tiny",
    image_size=75,
    images_per_batch=4,
    epochs=2,
    log_every_steps=1,
    learning_rate=3e-3,
)


@pytest.fixture(scope="session")
def tiny_train_config():
    """tiny_train_config(data_dir, model_dir, **overrides): a TrainConfig for the tiny network."""
    from fusion_tf.training.config import TrainConfig

    def make(data_dir, model_dir, **overrides) -> TrainConfig:
        settings = dict(_TINY_TRAINING, data_dir=str(data_dir), model_dir=str(model_dir))
        return TrainConfig(**{**settings, **overrides})

    return make


@pytest.fixture(scope="session")
def train_command():
    """train_command(*flags, tiny=True): experiments/train.py of this checkout and its environment,
    for tests that run, kill and resume training as a user's shell would; tiny=True puts the tiny
    settings (no validation, no export) before the flags, which override them."""

    def command(*flags: str, tiny: bool = True) -> tuple[list[str], dict[str, str]]:
        arguments = [sys.executable, str(PROJECT_ROOT / "experiments" / "train.py")]
        if tiny:
            arguments += [f"--{name}={value}" for name, value in _TINY_TRAINING.items()]
            arguments += ["--validation_split=", "--test_split=", "--noexport"]
        environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        return arguments + list(flags), environment

    return command


@pytest.fixture
def build_command():
    """build_command(*flags): `python -m tfrecords_builder` of this checkout and its environment,
    for tests that run the builder as a user's shell would (exit status, stderr, resuming)."""

    def command(*flags: str) -> tuple[list[str], dict[str, str]]:
        arguments = [sys.executable, "-m", "tfrecords_builder", *flags]
        return arguments, {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}

    return command


@pytest.fixture(scope="session")
def tiny_shards(tmp_path_factory):
    """Shards of 8 training and 4 validation squares, for the training tests."""
    directory = tmp_path_factory.mktemp("tiny_shards")
    _write_shards(directory, {"train": 8, "val": 4})
    return directory


@pytest.fixture(scope="session")
def run_cli():
    """run_cli(name, *flags): `python -m fusion_tf.cli.NAME FLAGS` from the project root, captured."""

    def run(name: str, *flags: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", f"fusion_tf.cli.{name}", *flags],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, write_shards):
    """A training run of the tiny model on 12 coloured squares: three steps, best checkpoint kept."""
    from fusion_tf.training.config import TrainConfig
    from fusion_tf.training.trainer import Trainer

    root = tmp_path_factory.mktemp("tiny_run")
    data_dir = root / "data"
    data_dir.mkdir()
    write_shards(data_dir, {"train": 12, "val": 4})
    config = TrainConfig(
        data_dir=str(data_dir),
        model_dir=str(root / "run"),
        preset="tiny",
        image_size=75,
        images_per_batch=4,
        epochs=1,
        log_every_steps=1,
    )
    Trainer(config).train()
    return root / "run"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.fixture(scope="session")
def oversized_png() -> bytes:
    """A well-formed PNG header announcing 20000 x 20000 pixels (a decompression bomb's header)."""
    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + _png_chunk(b"IEND", b"")
    )
