"""LiteRT (TFLite) files of a model's photo and caption embedders, float32 and dynamic-range int8.

The SavedModel's `embed_image` cannot convert: it decodes and converts photos inside tf.data
(to skip undecodable ones), which the converter does not take. So on-device the photo embedder
starts from decoded pixels, and the caption embedder from raw strings through the Select TF ops
(tokenising with regular expressions and the ragged word lists are TensorFlow ops with no
LiteRT builtin), beside a builtins-only one that starts from the encoded caption image. The
canvas is shrunk to the model's input size as in training, by two small matrix products on its
runs of one colour (`fusion_tf.data.canvas_resize`), equal to the antialiased resize whose
TensorFlow op (ScaleAndTranslate) neither LiteRT nor its Select TF ops have:

* `photo_embedder.tflite`: `pixels` float32 (n, S, S, 3), RGB 0..255, S the model's input size,
  decoded and resized as `fusion_tf.data.pipeline.decode_image` does (the SavedModel also
  re-encodes photos like the builder first) -> `embeddings` (n, 128). Builtin ops only.
* `caption_embedder.tflite`: `captions` string (n,) -> `embeddings` (n, 128) and
  `out_of_vocabulary_words` int32 (n,). Needs the Select TF ops (the
  `tensorflow-lite-select-tf-ops` runtime on Android/iOS); carries the vocabulary and its
  visual words, so it grows with the vocabulary.
* `caption_image_embedder.tflite`: `canvases` uint8 (n, 256, 256, 3), encoded captions from
  `fusion_tf.text.TextImageEncoder.encode` -> `embeddings` (n, 128). Builtin ops only.

Each comes as float32 and as `_int8` (dynamic-range quantisation: int8 weights, float
activations; no calibration data needed).
"""

import json
import os
import pathlib

import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema_fb

from fusion_tf.data import pipeline
from fusion_tf.data.canvas_resize import CanvasResizer
from fusion_tf.models.fusion_model import FusionModel
from fusion_tf.text.encoder import TextImageEncoder

TFLITE_INFO_FILE = "fusion_tf_tflite.json"
QUANTIZATIONS = ("float32", "int8")
EMBEDDERS = {
    "photo_embedder": "pixels float32 (n, S, S, 3) RGB 0..255, resized like decode_image",
    "caption_image_embedder": "canvases uint8 (n, 256, 256, 3), TextImageEncoder.encode output",
    "caption_embedder": "captions string (n,), raw text",
}
NEEDS_SELECT_TF_OPS = ("caption_embedder",)
SELECT_TF_OP_PREFIX = "Flex"  # how a Select TF op is named among a flat buffer's custom ops


def operators(flat_buffer: bytes) -> list[str]:
    """The operator names a LiteRT flat buffer uses: builtins, and custom ops such as FlexStringLower."""
    model = schema_fb.Model.GetRootAsModel(flat_buffer, 0)
    builtin_names = {
        code: name for name, code in vars(schema_fb.BuiltinOperator).items() if name.isupper()
    }
    names = set()
    for index in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(index)
        custom = code.CustomCode()
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        names.add(custom.decode() if custom else builtin_names[builtin])
    return sorted(names)


def signature_runner(model: bytes | str | os.PathLike):
    """The default signature of a LiteRT file (its bytes or its path) as a callable.

    Runs on ai-edge-litert's interpreter, LiteRT's own Python runtime: TensorFlow's
    tf.lite.Interpreter is deprecated in its favour.
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:  # an optional dependency: exporting does not need it
        raise ImportError(
            "Running a LiteRT file needs ai-edge-litert: pip install 'fusion-tf[litert]'."
        ) from error
    if isinstance(model, bytes):
        return Interpreter(model_content=model).get_signature_runner()
    return Interpreter(model_path=os.fspath(model)).get_signature_runner()


class LiteEmbedders(tf.Module):
    """The functions converted: a FusionModel's embedders behind convertible preprocessing.

    Args:
        model: FusionModel. The trained network.
        encoder: TextImageEncoder. Its caption encoder; the TensorFlow module is used.
        standardization: str. "fixed" or "per_image", as in training.
    """

    def __init__(self, model: FusionModel, encoder: TextImageEncoder, standardization: str):
        super().__init__(name="fusion_tf_lite")
        self.model = model
        # The converter freezes only the tf.Variables it finds tracked; Keras 3 variables wrap
        # theirs, so without this list every weight stays a resource variable that no
        # initializer fills, and the network reads garbage (NaN embeddings) on device.
        self.model_variables = [variable.value for variable in model.variables]
        self.caption_encoder = encoder.tf_module
        self.standardization = standardization
        size, canvas = model.image_size, encoder.layout.canvas_size
        self.canvases = CanvasResizer(encoder.layout, size)
        self.photo_embedder = tf.function(
            self._embed_pixels,
            input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32, name="pixels")],
        )
        self.caption_embedder = tf.function(
            self._embed_captions,
            input_signature=[tf.TensorSpec([None], tf.string, name="captions")],
        )
        self.caption_image_embedder = tf.function(
            self._embed_canvases,
            input_signature=[tf.TensorSpec([None, canvas, canvas, 3], tf.uint8, name="canvases")],
        )

    def _embed_pixels(self, pixels: tf.Tensor) -> dict[str, tf.Tensor]:
        photos = pipeline.standardize(pixels, self.standardization)
        return {"embeddings": self.model.embed_photos(photos)}

    def _embed_canvases(self, canvases: tf.Tensor) -> dict[str, tf.Tensor]:
        resized = self.canvases.whole(canvases)
        return {
            "embeddings": self.model.embed_captions(
                pipeline.standardize(resized, self.standardization)
            )
        }

    def _embed_captions(self, captions: tf.Tensor) -> dict[str, tf.Tensor]:
        encoded = self.caption_encoder.encode_with_statistics(captions)
        unknown = encoded["out_of_vocabulary_words"]
        return {
            **self._embed_canvases(encoded["images"]),
            "out_of_vocabulary_words": unknown,
        }


def convert(module: LiteEmbedders, name: str, quantization: str) -> bytes:
    """One embedder of `module` (a name of EMBEDDERS) as a LiteRT flat buffer."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization={quantization!r}: use one of {QUANTIZATIONS}")
    function = getattr(module, name).get_concrete_function()
    # The converter keeps every table its trackable object holds, with the table's initialiser;
    # only the string embedder looks words up, so the others get the weights alone.
    tracked = tf.Module()
    tracked.model_variables = module.model_variables
    if name in NEEDS_SELECT_TF_OPS:
        tracked.caption_encoder = module.caption_encoder
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], tracked)
    if name in NEEDS_SELECT_TF_OPS:
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS,
            tf.lite.OpsSet.SELECT_TF_OPS,
        ]
    if quantization == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    flat_buffer = converter.convert()
    # A weight left as a resource variable has no initializer in the file: the interpreter reads
    # garbage (NaN embeddings under XNNPACK) instead of failing, so refuse such a file here.
    if "VAR_HANDLE" in operators(flat_buffer):
        raise RuntimeError(
            f"{name} ({quantization}) kept variables unfrozen: LiteEmbedders must track them all"
        )
    return flat_buffer


def export_tflite(
    model: FusionModel,
    encoder: TextImageEncoder,
    export_dir: str | os.PathLike,
    standardization: str = "fixed",
) -> dict[str, pathlib.Path]:
    """Writes every embedder of EMBEDDERS in every quantisation, and a JSON file describing them.

    Returns:
        {file stem, e.g. "photo_embedder_int8": path of the .tflite file}.
    """
    export_dir = pathlib.Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    module = LiteEmbedders(model, encoder, standardization)
    written, described = {}, {}
    for name, inputs in EMBEDDERS.items():
        for quantization in QUANTIZATIONS:
            stem = name if quantization == "float32" else f"{name}_{quantization}"
            path = export_dir / f"{stem}.tflite"
            flat_buffer = convert(module, name, quantization)
            path.write_bytes(flat_buffer)
            written[stem] = path
            described[stem] = {
                "inputs": inputs,
                "quantization": quantization,
                "select_tf_ops": [
                    operator
                    for operator in operators(flat_buffer)
                    if operator.startswith(SELECT_TF_OP_PREFIX)
                ],
                "bytes": path.stat().st_size,
            }
    info = {
        "image_size": model.image_size,
        "caption_image_size": model.caption_image_size,
        "standardization": standardization,
        "caption_canvas_size": encoder.layout.canvas_size,
        "files": described,
        "tensorflow_version": tf.__version__,
    }
    (export_dir / TFLITE_INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return written
