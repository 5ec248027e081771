"""Data: source readers, the TFRecord schema and manifest, and the tf.data pipeline."""

from fusion_tf.data.manifest import DataDirectoryError, encoder_dir, read_manifest, split_files
from fusion_tf.data.pipeline import (
    PipelineConfig,
    evaluation_captions,
    evaluation_photos,
    ordered_records,
    standardize,
    training_dataset,
)

__all__ = [
    "DataDirectoryError",
    "PipelineConfig",
    "encoder_dir",
    "evaluation_captions",
    "evaluation_photos",
    "ordered_records",
    "read_manifest",
    "split_files",
    "standardize",
    "training_dataset",
]
