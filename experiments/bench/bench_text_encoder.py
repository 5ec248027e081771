"""Captions per second: a naive per-word loop (baseline), the NumPy encoder, and TF in tf.data.

    python -m experiments.bench.bench_text_encoder [--captions=FILE] [--batch_size=256]

Reads the shared Flickr8k sample's 4375 captions by default. TensorFlow is pinned to one thread
(and tf.data to a one-thread pool) so every figure is per core; NumPy runs single-threaded here.
"""

import pathlib
import time

import numpy as np
from absl import app, flags

from fusion_tf import machine

FLAGS = flags.FLAGS
flags.DEFINE_string(
    "captions",
    str(
        pathlib.Path(__file__).resolve().parents[2].parent
        / "shared/data/flickr8k_sample/Flickr8k.token.txt"
    ),
    "Flickr token file (IMAGE#N<TAB>caption) or one caption a line.",
)
flags.DEFINE_integer("batch_size", 128, "Captions encoded per call.")
flags.DEFINE_integer("repeats", 3, "Timed passes over the captions; the best is reported.")


def naive_encode(encoder, captions):
    """The baseline as first written: per word, look up, quantise, expand and paste its pixels."""
    from fusion_tf.text import tokenize

    layout, vectors = encoder.layout, encoder.vectors
    index = {word: i for i, word in enumerate(vectors.words)}
    images = np.zeros((len(captions), layout.canvas_size, layout.canvas_size, 3), np.uint8)
    for n, caption in enumerate(captions):
        slot = 0
        for word in tokenize(caption):
            if word not in index or slot >= layout.capacity:
                continue
            # The encoder's own quantisation, one word at a time (arithmetic of its own once put
            # 4 of 4375 captions' components on the other side of a .5 tie).
            levels = vectors.quantize(vectors.vectors[index[word]])
            superpixels = np.zeros((layout.superpixel_rows * layout.superpixels_per_row, 3))
            superpixels[: layout.superpixels] = levels.reshape(-1, 3)
            grid = superpixels.reshape(layout.superpixel_rows, layout.superpixels_per_row, 3)
            tile = grid.repeat(layout.superpixel_size, 0).repeat(layout.superpixel_size, 1)
            top = (slot // layout.columns) * layout.cell_height
            left = (slot % layout.columns) * layout.cell_width
            images[n, top : top + layout.word_height, left : left + layout.word_width] = tile
            slot += 1
    return images


def check_identical(name, encoded, expected, captions):
    """Fails naming the first differing caption (assert_array_equal needs 25 GiB to report on
    4375 canvases)."""
    differing = np.nonzero((encoded != expected).reshape(len(captions), -1).any(axis=1))[0]
    if differing.size:
        first = differing[0]
        raise AssertionError(
            f"{name} differs from the NumPy encoder on {differing.size} of {len(captions)} "
            f"captions, first {first}: {captions[first]!r}"
        )


def best_rate(function, captions, repeats):
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return len(captions) / min(seconds)


def main(argv):
    del argv
    print(machine.describe())
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from fusion_tf import text
    from fusion_tf.cli.encode_caption import read_caption_file

    captions = read_caption_file(pathlib.Path(FLAGS.captions))
    encoder = text.TextImageEncoder(text.train_word_vectors(captions, seed=0))
    batch = FLAGS.batch_size
    batches = [captions[i : i + batch] for i in range(0, len(captions), batch)]

    expected = encoder.encode(captions)
    check_identical("the naive loop", naive_encode(encoder, captions), expected, captions)

    def run_naive():
        for chunk in batches:
            naive_encode(encoder, chunk)

    def run_numpy():
        for chunk in batches:
            encoder.encode(chunk)

    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    dataset = (
        tf.data.Dataset.from_tensor_slices(captions)
        .batch(batch)
        .map(encoder.encode_tf)
        .with_options(options)
    )
    encoded = np.concatenate([images.numpy() for images in dataset])
    check_identical("the tf.data encoder", encoded, expected, captions)

    def run_tf_data():
        for _ in dataset:
            pass

    rates = {
        "naive per-word loop (baseline)": best_rate(run_naive, captions, FLAGS.repeats),
        "numpy vectorised": best_rate(run_numpy, captions, FLAGS.repeats),
        "tensorflow in tf.data": best_rate(run_tf_data, captions, FLAGS.repeats),
    }
    baseline = rates["naive per-word loop (baseline)"]
    print(
        f"{len(captions)} captions, canvas {encoder.canvas_size}, batch {batch}, one core; pixels identical"
    )
    print(f"{'encoder':34s} {'captions/s':>12s} {'x baseline':>11s}")
    for name, rate in rates.items():
        print(f"{name:34s} {rate:12,.0f} {rate / baseline:11.1f}")


if __name__ == "__main__":
    app.run(main)
