"""What the pipeline and training benchmarks share: shards to time on, the trainer's step, the load.

The model's rate is the trainer's own `tf.function` train step (forward, softmax + center loss +
weight decay, backward, Adam; `strategy.run` inside), fed one real pipeline batch over and over
from memory, so the input pipeline costs nothing while the model is timed.
"""

import dataclasses
import os
import pathlib
import statistics
import time

import psutil
import tensorflow as tf

SHARED_SAMPLE = pathlib.Path(__file__).resolve().parents[2].parent / "shared/data/flickr8k_sample"
SOURCES = ("auto", "flickr8k", "shapes")


def build_shards(output_dir: str, source: str = "auto", num_shapes: int = 2000) -> str:
    """Builds training shards into output_dir; returns what they hold, for the printout.

    "auto" prefers the shared Flickr8k sample's real photos (JPEG photos, captions of real
    vocabulary) and falls back to `num_shapes` generated shapes scenes when ../shared/data is
    absent. Both are split into 8 or more training shards, as many as the pipeline interleaves.
    """
    import tfrecords_builder

    if source not in SOURCES:
        raise ValueError(f"source={source!r}: use one of {SOURCES}")
    if source == "auto":
        source = "flickr8k" if SHARED_SAMPLE.is_dir() else "shapes"
    if source == "flickr8k":
        config = tfrecords_builder.BuildConfig(
            "flickr8k", output_dir, str(SHARED_SAMPLE), images_per_shard=100
        )
    else:
        config = tfrecords_builder.BuildConfig(
            "shapes",
            output_dir,
            source_options={"num_train": num_shapes, "num_val": 45, "num_test": 45},
            images_per_shard=max(1, num_shapes // 8),
        )
    start = time.perf_counter()
    manifest = tfrecords_builder.build(config)
    train = manifest["splits"]["train"]
    kind = "real photos (shared Flickr8k sample)" if source == "flickr8k" else "shapes scenes"
    return (
        f"{train['images']} train images of {kind}, {len(train['shards'])} shards, "
        f"built in {time.perf_counter() - start:.0f} s"
    )


def parse_case(case: str) -> tuple[str, int]:
    """Splits a case written preset:image_size, e.g. facenet:160, into ("facenet", 160)."""
    preset, _, size = case.partition(":")
    if not size.isdigit():
        raise ValueError(f"case {case!r}: write preset:image_size, e.g. facenet:160")
    return preset, int(size)


@dataclasses.dataclass(frozen=True)
class StepTiming:
    """Seconds of each timed train step, and the first (tracing, compilation) step's."""

    samples_per_step: int
    first_step_seconds: float
    step_seconds: tuple[float, ...]

    @property
    def median_rate(self) -> float:
        return self.samples_per_step / statistics.median(self.step_seconds)

    @property
    def best_rate(self) -> float:
        return self.samples_per_step / min(self.step_seconds)


def make_trainer(
    data_dir: str,
    model_dir: str,
    preset: str,
    image_size: int,
    images_per_batch: int,
    jit_compile: bool = False,
    mixed_precision: str = "none",
    input_config: str = "standard",
):
    """A Trainer on built shards; timing its step writes nothing to model_dir."""
    from fusion_tf.training.config import TrainConfig
    from fusion_tf.training.trainer import Trainer

    train_config = TrainConfig(
        dataset=_built_dataset(data_dir),
        data_dir=data_dir,
        model_dir=model_dir,
        input_config=input_config,
        preset=preset,
        image_size=image_size,
        images_per_batch=images_per_batch,
        jit_compile=jit_compile,
        mixed_precision=mixed_precision,
    )
    return Trainer(train_config)


def _built_dataset(data_dir: str) -> str:
    from fusion_tf.data.manifest import read_manifest

    return read_manifest(data_dir)["dataset"]


def constant_batch_iterator(trainer):
    """An iterator for `trainer.train_step` that yields one real pipeline batch forever.

    The batch comes from the trainer's own pipeline settings, once per input pipeline, through
    the trainer's strategy, so the step sees exactly what training feeds it.
    """
    from fusion_tf.data import pipeline

    def dataset_fn(input_context):
        batches = pipeline.training_dataset(
            trainer.config.data_dir, trainer.pipeline_config, input_context, seed=0
        )
        batch = next(iter(batches.take(1)))
        return tf.data.Dataset.from_tensors(batch).repeat()

    return iter(trainer.strategy.distribute_datasets_from_function(dataset_fn))


def time_train_step(trainer, iterator, steps: int, min_seconds: float = 0.0) -> StepTiming:
    """Runs the trainer's step once untimed (tracing, compilation), then times `steps` or more.

    Timed steps go on until `min_seconds` have passed too. Each step ends when its metrics
    reach Python, as in `Trainer.train`.
    """

    def one_step() -> float:
        start = time.perf_counter()
        metrics = trainer.train_step(iterator)
        float(metrics["loss"])
        return time.perf_counter() - start

    first = one_step()
    timed = [one_step()]
    while len(timed) < steps or sum(timed) < min_seconds:
        timed.append(one_step())
    return StepTiming(trainer.global_samples, first, tuple(timed))


class LoadMonitor:
    """How much of the machine other processes used while this one ran, from /proc's CPU times.

    `others_cores()` is (machine busy CPU seconds - this process's CPU seconds) / wall seconds
    since construction: 0.0 on an idle machine, up to the core count when others take it all.
    """

    def __init__(self):
        self._process = psutil.Process(os.getpid())
        self._start = self._snapshot()

    def _snapshot(self) -> tuple[float, float, float]:
        machine = psutil.cpu_times()
        busy = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
        own = self._process.cpu_times()
        return time.perf_counter(), busy, own.user + own.system

    def others_cores(self) -> float:
        wall, busy, own = (
            now - then for now, then in zip(self._snapshot(), self._start, strict=True)
        )
        return max(0.0, (busy - own) / wall)

    def describe(self) -> str:
        load = os.getloadavg()[0]
        return (
            f"other processes used {self.others_cores():.2f} of {psutil.cpu_count()} cores "
            f"during the run (1-minute load average now {load:.1f})"
        )
