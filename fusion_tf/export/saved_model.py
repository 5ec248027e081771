"""Writes a SavedModel of a model and its caption encoder, with a JSON file describing its inputs.

The SavedModel needs only TensorFlow to serve (TF Serving, `tf.saved_model.load`): the caption
vocabulary and visual words are saved inside it, and every preprocessing step is a TensorFlow op.
The exporter knows a model, an encoder and their input settings, nothing of training; exporting a
training run's checkpoint is `fusion_tf.orchestration.export_run`.
"""

import dataclasses
import datetime
import json
import os
import pathlib
import shutil

import tensorflow as tf

from fusion_tf.data import manifest as manifest_lib
from fusion_tf.export.serving_module import FusionServingModule, ServingLimits
from fusion_tf.export.stored_jpeg import StoredImageSettings
from fusion_tf.models.fusion_model import FusionModel
from fusion_tf.text.encoder import TextImageEncoder

EXPORT_INFO_FILE = "fusion_tf_export.json"

SIGNATURES = {
    "embed_image": {
        "inputs": {
            "images": "string [batch]: encoded image bytes: JPEG or PNG (also GIF: first frame, BMP, WebP)"
        },
        "outputs": {
            "embeddings": "float32 [batch, embedding_size]: L2-normalised; zeros where not valid",
            "valid": "bool [batch]: False for bytes that are not a usable image",
        },
    },
    "embed_text": {
        "inputs": {"captions": "string [batch]: raw captions, UTF-8"},
        "outputs": {
            "embeddings": "float32 [batch, embedding_size]: L2-normalised",
            "words_used": "int32 [batch]: words painted on the canvas (0: black canvas)",
            "out_of_vocabulary_words": "int32 [batch]: words not in the vocabulary, skipped",
            "dropped_words": "int32 [batch]: known words past the canvas capacity, dropped",
        },
    },
}


def export_model(
    model: FusionModel,
    encoder: TextImageEncoder,
    export_dir: str | os.PathLike,
    standardization: str = "fixed",
    stored_image: StoredImageSettings | None = None,
    source: dict | None = None,
    limits: ServingLimits | None = None,
) -> pathlib.Path:
    """Saves `model` with its preprocessing as a SavedModel with `embed_image` and `embed_text`.

    The SavedModel is written beside `export_dir` and then renamed into place, so a server
    watching the folder never sees a partial export. `fusion_tf_export.json` in it records the
    signatures, input size, standardisation, stored-photo settings, caption layout and `source`.
    An earlier export in `export_dir` is replaced; any other non-empty folder is left alone.

    Args:
        model: FusionModel. The trained network.
        encoder: TextImageEncoder. The caption encoder the model was trained with.
        export_dir: folder of the SavedModel (for TF Serving, a numbered version folder).
        standardization: str. "fixed" or "per_image", as in training.
        stored_image: StoredImageSettings or None. How the build stored photos; None for the
            builder's defaults.
        source: dict or None. Where the model comes from, recorded in the JSON file.
        limits: ServingLimits or None. Memory bounds of embed_image and embed_text; None for
            the defaults.

    Returns:
        The export folder.

    Raises:
        FileExistsError: `export_dir` holds files but no earlier export.
    """
    export_dir = pathlib.Path(export_dir).resolve()
    if (
        export_dir.exists()
        and any(export_dir.iterdir())
        and not (export_dir / EXPORT_INFO_FILE).is_file()
    ):
        raise FileExistsError(
            f"{export_dir} is not empty and holds no earlier export ({EXPORT_INFO_FILE}): "
            "export to an empty or new folder"
        )
    module = FusionServingModule(model, encoder, standardization, stored_image, limits)
    partial = export_dir.with_name(f".{export_dir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    tf.saved_model.save(
        module,
        str(partial),
        signatures={"embed_image": module.embed_image, "embed_text": module.embed_text},
    )
    info = {
        "signatures": SIGNATURES,
        "embedding_size": model.embedding_size,
        "image_size": model.image_size,
        "caption_image_size": model.caption_image_size,
        "standardization": standardization,
        "towers": model.towers,
        "preset": model.preset,
        "caption_preset": model.caption_preset,
        "stored_image": dataclasses.asdict(module.stored_image),
        "serving_limits": dataclasses.asdict(module.limits),
        "caption_layout": encoder.layout.to_config(),
        "caption_capacity": encoder.capacity,
        "vocabulary_size": len(encoder.vectors),
        "source": source or {},
        "tensorflow_version": tf.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    (partial / EXPORT_INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    if export_dir.exists():
        shutil.rmtree(export_dir)
    os.replace(partial, export_dir)
    return export_dir


def read_export_info(export_dir: str | os.PathLike) -> dict:
    """The JSON description written beside an export's SavedModel."""
    path = pathlib.Path(export_dir) / EXPORT_INFO_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{export_dir} is not a fusion_tf export: {EXPORT_INFO_FILE} is missing"
        )
    return json.loads(path.read_text())


def stored_image_settings(data_dir: str | os.PathLike) -> tuple[StoredImageSettings, str]:
    """The build's photo settings from its manifest, or the builder's defaults; and which it was."""
    try:
        manifest = manifest_lib.read_manifest(data_dir)
    except manifest_lib.DataDirectoryError:
        return StoredImageSettings(), f"builder defaults ({data_dir} has no manifest)"
    if "image" not in manifest:
        return StoredImageSettings(), f"builder defaults ({data_dir}'s manifest has no 'image')"
    return StoredImageSettings.from_manifest(manifest), f"manifest of {data_dir}"
