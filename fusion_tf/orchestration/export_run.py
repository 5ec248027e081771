"""Exports a training run's best or latest checkpoint: the run folder read, the exporter called."""

import os
import pathlib

from fusion_tf.export.saved_model import export_model, stored_image_settings
from fusion_tf.export.tflite import export_tflite
from fusion_tf.text.encoder import TextImageEncoder
from fusion_tf.training.config import TrainConfig
from fusion_tf.training.run_folder import EXPORT_DIR, RUN_ENCODER_DIR, restore_model

EXPORT_FORMATS = ("saved_model", "tflite")  # the choices of fusion-export --format
TFLITE_EXPORT_DIR = "export_tflite"  # the default folder of the LiteRT files, beside EXPORT_DIR


def export_run(
    model_dir: str | os.PathLike,
    export_dir: str | os.PathLike | None = None,
    which: str = "best",
    export_format: str = "saved_model",
) -> pathlib.Path:
    """Exports a training run's checkpoint with `fusion_tf.export.export_model` (or export_tflite).

    Args:
        model_dir: the run folder (config.json, model_config.json, encoder/, checkpoints).
        export_dir: where to write. Defaults to MODEL_DIR/export, MODEL_DIR/export_tflite for
            LiteRT.
        which: str. "best" (by validation rsum; the latest when the run kept none) or "latest".
        export_format: str. "saved_model", or "tflite" for the LiteRT files of
            fusion_tf/export/tflite.py. Defaults to "saved_model".

    Returns:
        The export folder.
    """
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"export_format={export_format!r}: use one of {EXPORT_FORMATS}")
    model_dir = pathlib.Path(model_dir)
    model = restore_model(model_dir, which)
    config = TrainConfig.load(model_dir)
    encoder = TextImageEncoder.load(model_dir / RUN_ENCODER_DIR)
    if export_format == "tflite":
        export_dir = pathlib.Path(export_dir or model_dir / TFLITE_EXPORT_DIR)
        export_tflite(model, encoder, export_dir, config.standardization)
        return export_dir
    stored_image, stored_image_origin = stored_image_settings(config.data_dir)
    source = {
        "model_dir": str(model_dir.resolve()),
        "checkpoint": which,
        "dataset": config.dataset,
        "data_dir": config.data_dir,
        "stored_image_settings_from": stored_image_origin,
    }
    return export_model(
        model,
        encoder,
        export_dir if export_dir is not None else model_dir / EXPORT_DIR,
        standardization=config.standardization,
        stored_image=stored_image,
        source=source,
    )
