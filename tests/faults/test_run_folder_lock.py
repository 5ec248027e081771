"""Two trainings on one run folder: the second fails at once naming the first; a kill frees it."""

import os
import pathlib
import signal
import subprocess
import sys

import pytest

from fusion_tf.training.run_folder import LOCK_FILE, RunFolderBusyError, RunFolderLock
from fusion_tf.training.trainer import Trainer

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]
HOLDER = """
import sys, time
from fusion_tf.training.run_folder import RunFolderLock
with RunFolderLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of tmp_path / "run"."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "run")],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "locked"
    yield process
    process.kill()
    process.wait()


def test_a_held_folder_names_its_holder_and_a_killed_holder_frees_it(tmp_path, holder):
    with pytest.raises(RunFolderBusyError) as error, RunFolderLock(tmp_path / "run"):
        pass
    assert f"pid {holder.pid} on " in str(error.value)
    assert str(tmp_path / "run") in str(error.value)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with RunFolderLock(tmp_path / "run"):  # the kernel released the dead holder's lock
        assert f"pid {os.getpid()} on " in (tmp_path / "run" / LOCK_FILE).read_text()


def test_a_second_trainer_fails_before_writing_anything(tmp_path, holder, tiny_config):
    trainer = Trainer(tiny_config(tmp_path / "run"))
    with pytest.raises(RunFolderBusyError, match=f"pid {holder.pid} on "):
        trainer.train()
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == [LOCK_FILE]


def test_the_lock_is_re_entrant_for_its_owner_only(tmp_path):
    lock = RunFolderLock(tmp_path)
    with lock:
        with lock:  # a whole run holds it around training, which takes it again
            pass
        with pytest.raises(RunFolderBusyError), RunFolderLock(tmp_path):
            pass  # another holder, even in this process
    with RunFolderLock(tmp_path):
        pass
