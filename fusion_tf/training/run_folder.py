"""What a training run folder holds, by name, and the model restored from its checkpoints.

The trainer writes these names; evaluation, export and the command lines read them from here.
"""

import json
import os
import pathlib

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
        path = tf.train.latest_checkpoint(str(model_dir / folder))
        if path:
            tf.train.Checkpoint(model=model).restore(path).expect_partial()
            return model
    raise FileNotFoundError(f"{model_dir} has no checkpoint in {', '.join(candidates)}")
