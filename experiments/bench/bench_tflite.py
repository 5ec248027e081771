"""LiteRT (TFLite) files of each preset: bytes float32 and int8, conversion time, cosine to the network.

    python -m experiments.bench.bench_tflite [--cases=tiny:75,facenet:160] [--onnx]

Each case is an untrained FusionModel (file sizes and the converter's faithfulness do not depend
on the weights) with a caption encoder for the words the shared Flickr8k sample's captions use
twice or more (24-d random vectors; ten words without the sample). Every embedder of
fusion_tf/export/tflite.py is converted float32 and int8; the photo and canvas embedders are run
by TensorFlow's LiteRT interpreter on 8 synthetic photos and 8 sample captions and compared with
the Keras network (the string embedder needs the Select TF ops, which that interpreter lacks).
`--onnx` also converts the photo and canvas functions with tf2onnx and runs them in ONNX
Runtime (both must be installed; neither is a project dependency).
"""

import collections
import pathlib
import time

import numpy as np
from absl import app, flags

from fusion_tf import machine

FLAGS = flags.FLAGS
flags.DEFINE_list("cases", ["tiny:75", "facenet:160"], "preset:image_size cases.")
flags.DEFINE_bool("onnx", False, "Also convert to ONNX with tf2onnx and run in ONNX Runtime.")

SAMPLE_TOKENS = (
    pathlib.Path(__file__).resolve().parents[2].parent
    / "shared/data/flickr8k_sample/Flickr8k.token.txt"
)
FALLBACK_CAPTIONS = ["a dog runs on the grass", "a man in red", "the cat on the beach"]
BATCH = 8


def sample_captions() -> list[str]:
    if not SAMPLE_TOKENS.is_file():
        return FALLBACK_CAPTIONS
    lines = SAMPLE_TOKENS.read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[1] for line in lines if "\t" in line]


def make_encoder(captions: list[str]):
    from fusion_tf.text import TextImageEncoder, WordVectors, tokenize

    counts = collections.Counter(word for caption in captions for word in tokenize(caption))
    least = 2 if captions != FALLBACK_CAPTIONS else 1
    words = sorted(word for word, count in counts.items() if count >= least)
    return TextImageEncoder(
        WordVectors(words, np.random.default_rng(0).normal(size=(len(words), 24)))
    )


def min_cosine(first: np.ndarray, second: np.ndarray) -> float:
    return float(
        np.min(
            np.sum(first * second, axis=1)
            / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1))
        )
    )


def onnx_row(module, name: str, inputs: dict, expected: np.ndarray) -> str:
    """tf2onnx's conversion of one embedder function, run in ONNX Runtime: size and cosine."""
    import onnxruntime
    import tf2onnx

    function = getattr(module, name)
    try:
        proto, _ = tf2onnx.convert.from_function(
            function, input_signature=function.input_signature, opset=17
        )
    except Exception as error:  # the figure to report is what tf2onnx raised
        return f"ONNX {name}: tf2onnx {tf2onnx.__version__} failed: {type(error).__name__}: {error}"
    content = proto.SerializeToString()
    session = onnxruntime.InferenceSession(content)
    output = session.run(["embeddings"], inputs)[0]
    return (
        f"ONNX {name}: {len(content) / 2**20:.2f} MiB, min cosine {min_cosine(output, expected):.7f}"
        f" (tf2onnx {tf2onnx.__version__}, onnxruntime {onnxruntime.__version__})"
    )


def run_case(case: str, captions: list[str]) -> None:
    import tensorflow as tf

    from experiments.bench.harness import parse_case
    from fusion_tf.data import pipeline
    from fusion_tf.export.tflite import (
        EMBEDDERS,
        QUANTIZATIONS,
        SELECT_TF_OP_PREFIX,
        LiteEmbedders,
        convert,
        operators,
        signature_runner,
    )
    from fusion_tf.models.fusion_model import FusionModel

    preset, image_size = parse_case(case)
    model = FusionModel(num_classes=100, image_size=image_size, preset=preset)
    encoder = make_encoder(captions)
    module = LiteEmbedders(model, encoder, "fixed")
    rng = np.random.default_rng(1)
    pixels = rng.uniform(0, 255, (BATCH, image_size, image_size, 3)).astype(np.float32)
    canvases = encoder.encode(captions[:BATCH])
    inputs = {
        "photo_embedder": {"pixels": pixels},
        "caption_image_embedder": {"canvases": canvases},
    }
    expected = {
        "photo_embedder": model.embed_photos(pipeline.standardize(tf.constant(pixels))).numpy(),
        "caption_image_embedder": model.embed_captions(
            pipeline.standardize(pipeline.resize(tf.constant(canvases), image_size))
        ).numpy(),
    }
    print(
        f"case {case}: {model.parameter_counts()['backbone']:,} backbone weights; caption "
        f"vocabulary {len(encoder.vectors.words):,} words"
    )
    print("| file | quantisation | MiB | convert s | min cosine to Keras | Select TF ops |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in EMBEDDERS:
        for quantization in QUANTIZATIONS:
            start = time.perf_counter()
            flat_buffer = convert(module, name, quantization)
            seconds = time.perf_counter() - start
            flex = [op for op in operators(flat_buffer) if op.startswith(SELECT_TF_OP_PREFIX)]
            cosine = "not run (Select TF ops)"
            if name in inputs:
                output = signature_runner(flat_buffer)(**inputs[name])["embeddings"]
                cosine = f"{min_cosine(output, expected[name]):.7f}"
            print(
                f"| {name} | {quantization} | {len(flat_buffer) / 2**20:.2f} | {seconds:.1f} | "
                f"{cosine} | {len(flex) or 'none'} |",
                flush=True,
            )
    if FLAGS.onnx:
        for name in inputs:
            print(onnx_row(module, name, inputs[name], expected[name]), flush=True)


def main(argv: list[str]) -> None:
    del argv
    print(machine.describe(), flush=True)
    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}", flush=True)
    captions = sample_captions()
    for case in FLAGS.cases:
        run_case(case, captions)


if __name__ == "__main__":
    app.run(main)
