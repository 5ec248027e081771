"""Builder throughput: images per second on the shared Flickr8k sample with 1 and 2 worker processes.

    python -m experiments.bench.bench_builder [--data_dir=../shared/data/flickr8k_sample]
        [--workers=1,2] [--repeats=2] [--images_per_shard=100]

Word2Vec is trained once up front and passed as --word_vectors, so the timed builds measure the
parallel work (read, convert and store each photo, encode and store its captions, write the
shards) plus the scan of the source; the Word2Vec time is printed separately. A first, untimed
build starts the workers' fork server and warms the file cache. Each timed build writes a fresh
folder, worker counts taking turns; the best of the repeats is reported, with its ratio to one worker. The load average is
printed too: with other jobs on the cores, more workers cannot run at once.
"""

import os
import pathlib
import shutil
import tempfile
import time

from absl import app, flags

from fusion_tf import machine

FLAGS = flags.FLAGS
flags.DEFINE_string(
    "data_dir",
    str(pathlib.Path(__file__).resolve().parents[2].parent / "shared/data/flickr8k_sample"),
    "Flickr8k folder to build (Karpathy JSON or token file, and images).",
)
flags.DEFINE_list("workers", ["1", "2"], "Worker counts to time; the first is the baseline.")
flags.DEFINE_integer("repeats", 2, "Timed builds per worker count; the best is reported.")
flags.DEFINE_integer("images_per_shard", 100, "Images per shard.")


def main(argv):
    del argv
    print(machine.describe())
    import tfrecords_builder
    from fusion_tf.data.records import Record
    from fusion_tf.data.sources import open_source
    from fusion_tf.text import train_word_vectors

    source = open_source("flickr8k", FLAGS.data_dir)
    captions = [
        caption
        for record in source.records()
        if isinstance(record, Record) and record.split == "train"
        for caption in record.captions
    ]
    start = time.perf_counter()
    vectors = train_word_vectors(captions)
    word2vec_seconds = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        vectors.save(scratch / "vectors")

        def build(num_workers: int) -> tuple[float, int]:
            output_dir = scratch / "out"
            shutil.rmtree(output_dir, ignore_errors=True)
            config = tfrecords_builder.BuildConfig(
                "flickr8k",
                str(output_dir),
                FLAGS.data_dir,
                word_vectors=str(scratch / "vectors"),
                images_per_shard=FLAGS.images_per_shard,
                num_workers=num_workers,
            )
            start = time.perf_counter()
            manifest = tfrecords_builder.build(config)
            seconds = time.perf_counter() - start
            return seconds, sum(split["images"] for split in manifest["splits"].values())

        build(int(FLAGS.workers[-1]))  # warm-up: fork server, file cache
        # Worker counts take turns, so that a burst of other load does not fall on one of them.
        runs = {int(workers): [] for workers in FLAGS.workers}
        for _ in range(FLAGS.repeats):
            for workers, times in runs.items():
                times.append(build(workers))
        results = {workers: min(times) for workers, times in runs.items()}

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nload average at the end (1, 5, 15 min): {load}; {os.cpu_count()} cores")
    print(f"Word2Vec on {len(captions)} train captions: {word2vec_seconds:.1f} s (not timed below)")
    print(f"{'workers':>8s} {'images':>7s} {'seconds':>8s} {'images/s':>9s} {'x baseline':>11s}")
    baseline_rate = None
    for workers, (seconds, images) in results.items():
        rate = images / seconds
        baseline_rate = baseline_rate or rate
        print(f"{workers:8d} {images:7d} {seconds:8.2f} {rate:9.1f} {rate / baseline_rate:11.2f}")


if __name__ == "__main__":
    app.run(main)
