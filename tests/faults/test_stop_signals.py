"""SIGTERM mid-epoch: the step finishes, a checkpoint is written, and the resumed run is exact."""

import json
import os
import shutil
import signal
import subprocess

import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.training.config import TrainConfig
from fusion_tf.training.trainer import Trainer, TrainingInterruptedError


def _state(trainer: Trainer) -> list[np.ndarray]:
    """Everything training changes: weights, dropout's random state, centers, Adam's moments."""
    variables = trainer.model.variables + trainer.optimizer.variables
    for item in trainer.objective.checkpoint_items().values():
        variables += item.variables
    return [variable.numpy() for variable in variables]


@pytest.mark.slow
def test_a_run_stopped_mid_epoch_resumes_to_the_unbroken_runs_weights(tmp_path, tiny_config):
    unbroken = Trainer(tiny_config(tmp_path / "unbroken", epochs=1))  # 4 steps
    unbroken.train()

    config = tiny_config(tmp_path / "stopped", epochs=1)
    stopped = Trainer(config)
    step = stopped.train_step

    def step_then_sigterm(iterator):
        metrics = step(iterator)
        if int(stopped.step.numpy()) == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # a scheduler's preemption, mid-epoch
        return metrics

    stopped.train_step = step_then_sigterm
    with pytest.raises(TrainingInterruptedError) as stop:
        stopped.train()
    assert (stop.value.step, stop.value.exit_code) == (2, 143)
    assert tf.train.latest_checkpoint(f"{config.model_dir}/checkpoints").endswith("ckpt-2")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers given back

    resumed = Trainer(config)
    resumed.train()
    assert int(resumed.step.numpy()) == 4
    # Exact on CPU: the resumed run sees the batches, random views and dropout masks the
    # unbroken one saw.
    for expected, value in zip(_state(unbroken), _state(resumed), strict=True):
        np.testing.assert_array_equal(value, expected)


def test_a_moved_run_folder_loads_where_it_is_now(tmp_path):
    TrainConfig(data_dir="d", model_dir=str(tmp_path / "old")).save(tmp_path / "old")
    shutil.move(tmp_path / "old", tmp_path / "new")
    assert TrainConfig.load(f"{tmp_path}/new/").model_dir == f"{tmp_path}/new/"


@pytest.mark.slow
def test_the_command_line_exits_143_on_sigterm_and_resumes_from_a_moved_folder(
    tmp_path, tiny_shards, train_command
):
    flags = [f"--data_dir={tiny_shards}", "--images_per_batch=2", "--epochs=40"]
    command, environment = train_command(*flags, f"--model_dir={tmp_path / 'run'}")
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    logged = 0
    for line in process.stdout:  # "step 3/160 epoch ..."
        if line.startswith("step "):
            logged = int(line.split()[1].split("/")[0])
            if logged >= 3:
                break
    process.send_signal(signal.SIGTERM)
    process.stdout.read()
    assert process.wait(timeout=300) == 143, process.stderr.read()[-3000:]
    assert "stopped by SIGTERM after step" in process.stderr.read()
    checkpoint = tf.train.latest_checkpoint(str(tmp_path / "run" / "checkpoints"))
    stopped_at = int(checkpoint.rsplit("-", 1)[1])
    assert logged <= stopped_at <= logged + 1  # at most the step under way when signalled

    shutil.move(tmp_path / "run", tmp_path / "moved")
    command, environment = train_command(
        *flags, f"--model_dir={tmp_path / 'moved'}/", f"--max_steps={stopped_at + 1}"
    )
    resumed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resumed from {tmp_path / 'moved'}/checkpoints/ckpt-{stopped_at}" in resumed.stdout
    saved = json.loads((tmp_path / "moved" / "config.json").read_text())
    assert saved["model_dir"] == f"{tmp_path / 'moved'}/"  # the run folder's new name
