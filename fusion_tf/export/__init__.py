"""Export: SavedModels that embed JPEG/PNG bytes and raw caption strings."""

from fusion_tf.export.opencv_resize import resize_like_opencv
from fusion_tf.export.saved_model import (
    EXPORT_INFO_FILE,
    SIGNATURES,
    export_model,
    read_export_info,
    stored_image_settings,
)
from fusion_tf.export.serving_module import FusionServingModule, ServingLimits
from fusion_tf.export.stored_jpeg import StoredImageSettings, stored_jpeg

__all__ = [
    "EXPORT_INFO_FILE",
    "SIGNATURES",
    "FusionServingModule",
    "ServingLimits",
    "StoredImageSettings",
    "export_model",
    "read_export_info",
    "resize_like_opencv",
    "stored_image_settings",
    "stored_jpeg",
]
