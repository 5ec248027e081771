"""Fault-injection fixtures: tiny shards and a tiny run's settings, for tests that kill and break."""

import pytest

from fusion_tf.training.config import TrainConfig


@pytest.fixture(scope="package")
def shards(tmp_path_factory, write_shards):
    directory = tmp_path_factory.mktemp("shards")
    write_shards(directory, {"train": 8, "val": 4})
    return directory


@pytest.fixture
def tiny_config(shards):
    """tiny_config(model_dir, **overrides): 2 images a batch, so 4 steps an epoch, no validation."""

    def make(model_dir, **overrides) -> TrainConfig:
        settings = dict(
            data_dir=str(shards),
            model_dir=str(model_dir),
            preset="tiny",
            image_size=75,
            images_per_batch=2,
            epochs=2,
            log_every_steps=1,
            learning_rate=3e-3,
            validation_split="",
        )
        return TrainConfig(**{**settings, **overrides})

    return make
