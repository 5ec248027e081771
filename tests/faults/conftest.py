"""Fault-injection fixtures: a tiny run's settings on the shared tiny shards, for tests that kill and break."""

import pytest


@pytest.fixture
def tiny_config(tiny_shards, tiny_train_config):
    """tiny_config(model_dir, **overrides): 2 images a batch, so 4 steps an epoch, no validation."""

    def make(model_dir, **overrides):
        settings = dict(images_per_batch=2, validation_split="")
        return tiny_train_config(tiny_shards, model_dir, **{**settings, **overrides})

    return make
