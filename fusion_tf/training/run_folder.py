"""What a training run folder holds, by name; its lock; the model restored from its checkpoints.

The trainer writes these names; evaluation, export and the command lines read them from here.
"""

import datetime
import fcntl
import glob
import json
import logging
import os
import pathlib
import socket

import tensorflow as tf

from fusion_tf.models.fusion_model import FusionModel

CHECKPOINT_DIR = "checkpoints"  # regular checkpoints and one at each epoch end
BEST_DIR = "best"  # the checkpoint with the best validation rsum
HISTORY_FILE = "history.json"
MODEL_CONFIG_FILE = "model_config.json"  # FusionModel's constructor arguments
RUN_ENCODER_DIR = "encoder"  # the build's word vectors and layout, copied so a run stands alone
RESULTS_FILE = "results.json"  # the end-of-run test evaluation
EXPORT_DIR = "export"  # the default SavedModel folder
CHECKPOINTS = ("best", "latest")  # which checkpoint to restore: the choices of --checkpoint flags
LOCK_FILE = "run.lock"  # held (flock) by the process training in the folder; names it

logger = logging.getLogger(__name__)


class RunFolderBusyError(RuntimeError):
    """Another process holds the run folder's lock; the message names it."""


class UnreadableCheckpointError(RuntimeError):
    """No checkpoint of a folder can be read; the message names each one tried."""


class RunFolderLock:
    """An exclusive lock on a run folder, so that two trainings never write into one.

    `flock` on LOCK_FILE, which records the holder's pid, host and start time for the message
    a second process gets. The kernel releases it when the holder dies, however it dies, so a
    killed run leaves no stale lock. Re-entrant within its owner, so that training can hold it
    inside a whole run (train, evaluate, export) that holds it too. Local file systems only:
    flock over NFS is as good as its server's.

    Args:
        model_dir: str or PathLike. The run folder (created if missing).
    """

    def __init__(self, model_dir: str | os.PathLike):
        self.path = pathlib.Path(model_dir) / LOCK_FILE
        self._file = None
        self._depth = 0

    def __enter__(self) -> "RunFolderLock":
        if self._depth == 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_file = open(self.path, "a+")  # noqa: SIM115 (held until __exit__)
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock_file.seek(0)
                holder = lock_file.read().strip() or "a process that has not yet named itself"
                lock_file.close()
                raise RunFolderBusyError(
                    f"{self.path.parent} is in use by another training run ({holder}); "
                    "wait for it to end or choose another --model_dir"
                ) from None
            lock_file.truncate(0)
            started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            lock_file.write(f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n")
            lock_file.flush()
            self._file = lock_file
        self._depth += 1
        return self

    def __exit__(self, *exc_info) -> None:
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def restore_newest_readable(checkpoint: tf.train.Checkpoint, directory: str | os.PathLike):
    """Restores the newest checkpoint of `directory` that reads whole; its path, or None if none.

    A checkpoint cut short (a full disk, a copy stopped half-way) is skipped with a warning
    naming its files, and the one before it is tried.

    Raises:
        UnreadableCheckpointError: the folder has checkpoints and none of them reads.
    """
    state = tf.train.get_checkpoint_state(str(directory))
    paths = list(state.all_model_checkpoint_paths) if state else []
    if state and state.model_checkpoint_path not in paths:
        paths.append(state.model_checkpoint_path)
    # Where the folder is now: a moved run's state file may still name the old place.
    paths = [os.path.join(str(directory), os.path.basename(path)) for path in paths]
    failures = []
    for path in reversed(paths):
        try:
            checkpoint.restore(path).expect_partial()
        except (tf.errors.OpError, IndexError, ValueError) as error:
            files = ", ".join(sorted(glob.glob(glob.escape(path) + ".*"))) or f"{path}.* (missing)"
            reason = (str(error).strip() or type(error).__name__).splitlines()[0]
            logger.warning("checkpoint %s cannot be read: %s; trying the one before", files, reason)
            failures.append(f"{files}: {reason}")
            continue
        return path
    if failures:
        raise UnreadableCheckpointError(
            f"no checkpoint in {directory} can be read:\n  " + "\n  ".join(failures)
        )
    return None


def restore_model(model_dir: str | os.PathLike, which: str = "best") -> FusionModel:
    """The model of a run from its best (by validation rsum) or latest checkpoint.

    Falls back to the latest checkpoint when the run kept no best one (no validation split).
    """
    if which not in CHECKPOINTS:
        raise ValueError(f"which={which!r}: use one of {CHECKPOINTS}")
    model_dir = pathlib.Path(model_dir)
    config_path = model_dir / MODEL_CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{model_dir} is not a training run: it has no {MODEL_CONFIG_FILE}")
    model = FusionModel.from_config(json.loads(config_path.read_text()))
    candidates = [BEST_DIR, CHECKPOINT_DIR] if which == "best" else [CHECKPOINT_DIR]
    for folder in candidates:
        if restore_newest_readable(tf.train.Checkpoint(model=model), model_dir / folder):
            return model
    raise FileNotFoundError(f"{model_dir} has no checkpoint in {', '.join(candidates)}")
