"""Builder memory: peak resident memory building 2,000 and 20,000 generated `shapes` images.

    python -m experiments.bench.bench_builder_memory [--sizes=2000,20000] [--num_workers=2]

Each build runs in a fresh process (`--child_images=N`) so that peaks do not carry over. The main
process's peak comes from the kernel (ru_maxrss); the workers' from sampling their resident
memory every 0.1 s (they include the pages shared with the fork server). 90% of the images are in
train, 5% each in val and test. The target: the larger build's main-process peak within 1.2x of
the smaller one's, since images are streamed and only ids, counts and train captions are kept.
"""

import contextlib
import json
import pathlib
import resource
import subprocess
import sys
import tempfile
import threading
import time

from absl import app, flags

from fusion_tf import machine

FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["2000", "20000"], "Data set sizes; the first is the baseline.")
flags.DEFINE_integer("num_workers", 2, "Worker processes.")
flags.DEFINE_integer("images_per_shard", 1000, "Images per shard.")
flags.DEFINE_integer("child_images", None, "Internal: build this many images here and report.")
flags.DEFINE_string("child_output_dir", None, "Internal: where the child builds.")


class WorkerMemory:
    """Samples the resident memory of this process's descendants (fork server and workers)."""

    def __init__(self, interval: float = 0.1):
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.wait(self._interval):
            for child in self._process.children(recursive=True):
                # A process may end between listing and reading it.
                with contextlib.suppress(psutil.Error):
                    self.peak = max(self.peak, child.memory_info().rss)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def run_child(num_images: int, output_dir: str) -> None:
    import tfrecords_builder

    held = num_images // 20
    config = tfrecords_builder.BuildConfig(
        "shapes",
        output_dir,
        source_options={"num_train": num_images - 2 * held, "num_val": held, "num_test": held},
        images_per_shard=FLAGS.images_per_shard,
        num_workers=FLAGS.num_workers,
    )
    start = time.perf_counter()
    with WorkerMemory() as workers:
        manifest = tfrecords_builder.build(config)
    seconds = time.perf_counter() - start
    result = {
        "images": sum(split["images"] for split in manifest["splits"].values()),
        "seconds": seconds,
        "main_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_mib": workers.peak / 2**20,
    }
    print("RESULT " + json.dumps(result))


def main(argv):
    del argv
    print(machine.describe())
    if FLAGS.child_images is not None:
        run_child(FLAGS.child_images, FLAGS.child_output_dir)
        return
    results = {}
    for size in map(int, FLAGS.sizes):
        with tempfile.TemporaryDirectory() as scratch:
            command = [
                sys.executable, "-m", "experiments.bench.bench_builder_memory",
                f"--child_images={size}", f"--child_output_dir={pathlib.Path(scratch) / 'out'}",
                f"--num_workers={FLAGS.num_workers}", f"--images_per_shard={FLAGS.images_per_shard}",
            ]  # fmt: skip
            output = subprocess.run(
                command, capture_output=True, text=True, check=True
            ).stdout.splitlines()
        [line] = [line for line in output if line.startswith("RESULT ")]
        results[size] = json.loads(line.removeprefix("RESULT "))
    baseline = results[int(FLAGS.sizes[0])]
    print(
        f"{'images':>7s} {'seconds':>8s} {'main peak MiB':>14s} {'x baseline':>11s} "
        f"{'worker peak MiB':>16s} {'x baseline':>11s}"
    )
    for result in results.values():
        print(
            f"{result['images']:7d} {result['seconds']:8.1f} {result['main_peak_mib']:14.0f} "
            f"{result['main_peak_mib'] / baseline['main_peak_mib']:11.2f} "
            f"{result['worker_peak_mib']:16.0f} "
            f"{result['worker_peak_mib'] / baseline['worker_peak_mib']:11.2f}"
        )


if __name__ == "__main__":
    app.run(main)
