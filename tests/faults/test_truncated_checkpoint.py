"""A checkpoint cut short: training falls back to the one before with a warning naming it."""

import logging

import pytest
import tensorflow as tf

from fusion_tf.training.run_folder import (
    CHECKPOINT_DIR,
    UnreadableCheckpointError,
    restore_model,
    restore_newest_readable,
)
from fusion_tf.training.trainer import Trainer


def _truncate_data_file(prefix: str) -> str:
    (data_file,) = tf.io.gfile.glob(prefix + ".data-*")
    with open(data_file, "r+b") as file:
        file.truncate(file.seek(0, 2) // 2)
    return data_file


@pytest.fixture
def two_checkpoints(tmp_path, tiny_config):
    """A run folder with checkpoints at steps 1 and 2, and its trainer's config."""
    config = tiny_config(tmp_path / "run")
    trainer = Trainer(config)
    for step in (1, 2):
        trainer.step.assign(step)
        trainer.manager.save(checkpoint_number=step)
    trainer._save_run_files()  # config and model_config.json, as train() writes them
    return config


def test_a_truncated_latest_checkpoint_falls_back_with_a_warning(two_checkpoints, caplog):
    directory = f"{two_checkpoints.model_dir}/{CHECKPOINT_DIR}"
    bad_file = _truncate_data_file(f"{directory}/ckpt-2")
    trainer = Trainer(two_checkpoints)
    with caplog.at_level(logging.WARNING, logger="fusion_tf"):
        restored = restore_newest_readable(trainer.checkpoint, directory)
    assert restored == f"{directory}/ckpt-1"
    assert int(trainer.step.numpy()) == 1
    assert bad_file in caplog.text and "trying the one before" in caplog.text
    assert restore_model(two_checkpoints.model_dir, "latest").num_classes == 8


def test_no_readable_checkpoint_stops_naming_each_file(two_checkpoints):
    directory = f"{two_checkpoints.model_dir}/{CHECKPOINT_DIR}"
    bad_files = [_truncate_data_file(f"{directory}/ckpt-{step}") for step in (1, 2)]
    with pytest.raises(UnreadableCheckpointError) as error:
        Trainer(two_checkpoints).train()
    for bad_file in bad_files:
        assert bad_file in str(error.value)
