"""Fixtures of the training tests."""

import pytest


@pytest.fixture
def tiny_config(tiny_shards, tiny_train_config):
    """tiny_config(model_dir, **overrides): 4 images a batch, so 2 steps an epoch."""
    return lambda model_dir, **overrides: tiny_train_config(tiny_shards, model_dir, **overrides)
