"""MultiWorkerMirroredStrategy for real: two worker processes on loopback ports train a few steps."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]

WORKER = """
import json, sys
import numpy as np
from fusion_tf.training.config import TrainConfig
from fusion_tf.training.trainer import Trainer

trainer = Trainer(TrainConfig(**json.loads(sys.argv[1])))
trainer.train()
np.savez(sys.argv[2], *[variable.numpy() for variable in trainer.model.trainable_variables])
print("steps", int(trainer.step.numpy()))
"""


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for item in sockets:
        item.bind(("127.0.0.1", 0))
    ports = [item.getsockname()[1] for item in sockets]
    for item in sockets:
        item.close()
    return ports


@pytest.mark.slow
def test_two_workers_end_with_identical_trainable_weights(tmp_path, write_shards):
    shards = tmp_path / "shards"
    shards.mkdir()
    write_shards(shards, {"train": 8, "val": 4})
    config = {
        "data_dir": str(shards),
        "model_dir": str(tmp_path / "run"),
        "preset": "tiny",
        "image_size": 75,
        "images_per_batch": 4,
        "epochs": 2,
        "strategy": "multi_worker",
        "log_every_steps": 1,
    }
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    processes = []
    for index in range(2):
        environment = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
        }
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(script),
                    json.dumps(config),
                    str(tmp_path / f"weights_{index}.npz"),
                ],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = []
    for process in processes:
        try:
            output, _ = process.communicate(timeout=600)
        finally:
            process.kill()
        outputs.append(output)
        assert process.returncode == 0, output[-3000:]
    assert all("steps 4" in output for output in outputs)
    first, second = (np.load(tmp_path / f"weights_{index}.npz") for index in range(2))
    assert len(first.files) > 10
    for name in first.files:
        np.testing.assert_array_equal(first[name], second[name])
    # Only the chief (worker 0) leaves checkpoints and logs in the model dir.
    assert (tmp_path / "run" / "checkpoints").is_dir()
    assert not (tmp_path / "run" / "workers" / "worker_1").exists()
