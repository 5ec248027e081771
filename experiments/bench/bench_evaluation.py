"""Time and peak memory of recall_at_k on a COCO 5k-sized test set, against two baselines.

    python -m experiments.bench.bench_evaluation
    python -m experiments.bench.bench_evaluation --num_images=1000  # quick check

Baselines measured in the same run: recall_at_k with one chunk holding every query (the full
similarity matrix at once), and vsepp's per-query loop (one full argsort per query, as its
evaluation.py i2t/t2i do). All three must give the same metrics. Peak memory is what tracemalloc
sees NumPy allocate during the call, beyond the embeddings themselves.
"""

import time
import tracemalloc

import numpy as np
from absl import app, flags

from fusion_tf import machine
from fusion_tf.evaluation.recall import recall_at_k, summarize_ranks

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_images", 5000, "Test images.")
flags.DEFINE_integer("captions_per_image", 5, "Captions per image.")
flags.DEFINE_integer("dimension", 128, "Embedding size.")
flags.DEFINE_integer("chunk_size", 512, "Queries per chunk for the chunked run.")
flags.DEFINE_float(
    "noise", 4.0, "Norm of the Gaussian noise added to a caption's unit image embedding."
)
flags.DEFINE_bool("vsepp_loop", True, "Also time vsepp's per-query argsort loop (slow).")
flags.DEFINE_integer("seed", 0, "Random seed.")


def vsepp_loop(images: np.ndarray, captions: np.ndarray, caption_to_image: np.ndarray) -> dict:
    """The baseline: per query a full similarity row, argsort, and the ground truth's position."""
    images = images / np.linalg.norm(images, axis=1, keepdims=True)
    captions = captions / np.linalg.norm(captions, axis=1, keepdims=True)
    own_captions = [np.flatnonzero(caption_to_image == image) for image in range(len(images))]
    image_ranks = np.empty(len(images), dtype=np.int64)
    for image in range(len(images)):
        order = np.argsort(images[image] @ captions.T)[::-1]
        image_ranks[image] = np.flatnonzero(np.isin(order, own_captions[image]))[0]
    caption_ranks = np.empty(len(captions), dtype=np.int64)
    for caption in range(len(captions)):
        order = np.argsort(captions[caption] @ images.T)[::-1]
        caption_ranks[caption] = np.flatnonzero(order == caption_to_image[caption])[0]
    return summarize_ranks(image_ranks, caption_ranks)


def measure(function):
    """(result, seconds, peak MiB): timed without tracing, then run again under tracemalloc."""
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak / 2**20


def main(argv):
    del argv
    print(machine.describe())
    random = np.random.default_rng(FLAGS.seed)
    images = random.standard_normal((FLAGS.num_images, FLAGS.dimension), dtype=np.float32)
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    caption_to_image = np.repeat(np.arange(FLAGS.num_images), FLAGS.captions_per_image)
    noise = random.standard_normal((len(caption_to_image), FLAGS.dimension), dtype=np.float32)
    captions = images[caption_to_image] + FLAGS.noise / np.sqrt(FLAGS.dimension) * noise
    print(
        f"{FLAGS.num_images} images x {len(captions)} captions x {FLAGS.dimension} dims "
        f"(embeddings {(images.nbytes + captions.nbytes) / 2**20:.0f} MiB)"
    )

    runs = {
        f"recall_at_k chunk_size={FLAGS.chunk_size}": lambda: recall_at_k(
            images, captions, caption_to_image, chunk_size=FLAGS.chunk_size
        ),
        "recall_at_k one chunk (full matrix)": lambda: recall_at_k(
            images, captions, caption_to_image, chunk_size=len(captions)
        ),
    }
    if FLAGS.vsepp_loop:
        runs["vsepp per-query argsort loop"] = lambda: vsepp_loop(
            images, captions, caption_to_image
        )

    results = {}
    for name, function in runs.items():
        results[name] = measure(function)
    reference_name = next(iter(results))
    reference_metrics, reference_seconds, reference_peak = results[reference_name]
    print(f"{'method':<40} {'seconds':>8} {'peak MiB':>9} {'time ratio':>11} {'memory ratio':>13}")
    for name, (metrics, seconds, peak) in results.items():
        assert metrics == reference_metrics, f"{name} disagrees: {metrics} vs {reference_metrics}"
        print(
            f"{name:<40} {seconds:>8.2f} {peak:>9.1f} {seconds / reference_seconds:>10.2f}x "
            f"{peak / reference_peak:>12.2f}x"
        )
    print(
        "metrics (all methods equal):",
        {key: round(value, 2) for key, value in reference_metrics.items()},
    )


if __name__ == "__main__":
    app.run(main)
