"""Training-pipeline samples/s against raw TFRecord reading, and against what the model consumes.

    python -m experiments.bench.bench_pipeline
    python -m experiments.bench.bench_pipeline --models=tiny:80 --batches=10  # quick check

Shards are built into a temporary folder first: the shared Flickr8k sample's real photos when
../shared/data is there, else generated shapes scenes (--source). TensorFlow uses every core.

Input side, all in one run: raw read + parse of the shards (the baseline: no decoding), then
cumulative stages of one training image (decode the JPEG photo and 5 PNG caption canvases; then
resize them to the input size as the pipeline does, the canvases through their runs of one colour,
or as it did before, every canvas's pixels through the antialiased resize), then
the whole `pipeline.training_dataset` for config-standard (45 images x 6 samples) and config-2
(45 x 12). Stages are reported per image (images/s, and CPU milliseconds an image if the pipeline
had every core) and as samples/s at 6 samples an image.

Model side: the trainer's own train step fed one pipeline batch from memory (harness.py), for
each --models entry, so the input costs nothing; and one end-to-end case, the trainer's step
pulling batches from the real pipeline, where input and model share the cores as in training.
The machine's load from other processes during the run is printed with the figures.
"""

import pathlib
import tempfile
import time

import psutil
import tensorflow as tf
from absl import app, flags

from experiments.bench import harness
from fusion_tf import machine
from fusion_tf.data import manifest as manifest_lib
from fusion_tf.data import pipeline, schema
from fusion_tf.data.canvas_resize import CanvasResizer

FLAGS = flags.FLAGS
flags.DEFINE_enum("source", "auto", harness.SOURCES, "Shards to build: auto prefers real photos.")
flags.DEFINE_integer("num_shapes", 2000, "Training scenes when the source is shapes.")
flags.DEFINE_integer("image_size", 160, "Model input side for the pipeline figures.")
flags.DEFINE_integer("images_per_batch", 45, "Images per pipeline batch, and per tiny step.")
flags.DEFINE_integer("warmup_batches", 5, "Untimed batches before each pipeline timing.")
flags.DEFINE_integer("batches", 30, "Timed batches per pipeline case (config-2: half).")
flags.DEFINE_float("min_seconds", 3.0, "Each input case and model is timed at least this long.")
flags.DEFINE_list(
    "models", ["tiny:80", "facenet:160"], "preset:image_size train steps to time; empty: none."
)
flags.DEFINE_integer(
    "facenet_images_per_batch", 5, "Images per batch for facenet steps (x6 samples)."
)
flags.DEFINE_integer("model_steps", 3, "Timed train steps per model, after one untimed.")
flags.DEFINE_string(
    "end_to_end", "tiny:80", "preset:image_size timed through the real pipeline; empty: skip."
)


def rate(dataset: tf.data.Dataset, count_of, warmup: int, batches: int) -> float:
    """Items per second after `warmup` untimed elements, over `batches` or more elements.

    Timing goes on until --min_seconds have passed too, so fast stages are not timed over a
    few milliseconds.
    """
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    start, items, elements = time.perf_counter(), 0, 0
    while elements < batches or time.perf_counter() - start < FLAGS.min_seconds:
        items += count_of(next(iterator))
        elements += 1
    return items / (time.perf_counter() - start)


def _decoded(example: dict) -> tuple[tf.Tensor, tf.Tensor]:
    photo = tf.io.decode_image(example[schema.IMAGE], channels=3, expand_animations=False)
    captions = tf.map_fn(
        lambda png: tf.io.decode_png(png, channels=3),
        example[schema.CAPTION_IMAGE],
        fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
    )
    return photo, captions


def stage_functions(size: int, canvases: CanvasResizer) -> dict:
    """Per-record map functions, each doing one stage more; each returns one float an image."""

    def parse(serialized):
        example = schema.parse_example(serialized)
        return tf.cast(tf.strings.length(example[schema.IMAGE]), tf.float32)

    def decode(serialized):
        photo, captions = _decoded(schema.parse_example(serialized))
        return tf.cast(photo[0, 0, 0], tf.float32) + tf.cast(captions[0, 0, 0, 0], tf.float32)

    def resized(serialized):
        photo, captions = _decoded(schema.parse_example(serialized))
        return pipeline.resize(photo, size)[0, 0, 0] + canvases.whole(captions)[0, 0, 0, 0]

    def resized_as_pixels(serialized):
        photo, captions = _decoded(schema.parse_example(serialized))
        return pipeline.resize(photo, size)[0, 0, 0] + pipeline.resize(captions, size)[0, 0, 0, 0]

    return {
        "raw read + parse (baseline)": parse,
        "+ decode photo (JPEG) and captions (PNG)": decode,
        f"+ resize to {size}, canvases through their runs (as the pipeline)": resized,
        "  what-if: canvases resized as pixels, antialiased (before)": resized_as_pixels,
    }


def stage_rate(files: list[str], function, images_per_batch: int) -> float:
    """Images/s of one stage, read and mapped with the pipeline's parallelism."""
    dataset = (
        tf.data.Dataset.from_tensor_slices(files)
        .interleave(
            tf.data.TFRecordDataset,
            cycle_length=min(len(files), 8),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .repeat()
        .map(function, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
        .batch(images_per_batch)
        .prefetch(tf.data.AUTOTUNE)
    )
    return rate(dataset, lambda batch: int(batch.shape[0]), FLAGS.warmup_batches, FLAGS.batches)


def pipeline_rate(data_dir: str, config: pipeline.PipelineConfig, batches: int) -> float:
    dataset = pipeline.training_dataset(data_dir, config, repeat=True)
    return rate(dataset, lambda batch: int(batch["labels"].shape[0]), FLAGS.warmup_batches, batches)


def model_rate(data_dir: str, scratch: pathlib.Path, spec: str, end_to_end: bool) -> tuple:
    """(samples/s median, samples per step) of the trainer's step for preset:image_size."""
    preset, size = harness.parse_case(spec)
    images_per_batch = (
        FLAGS.facenet_images_per_batch if preset == "facenet" else FLAGS.images_per_batch
    )
    trainer = harness.make_trainer(
        data_dir, str(scratch / f"model_{preset}_{size}"), preset, size, images_per_batch
    )
    iterator = (
        iter(trainer.distributed_dataset())
        if end_to_end
        else harness.constant_batch_iterator(trainer)
    )
    timing = harness.time_train_step(trainer, iterator, FLAGS.model_steps, FLAGS.min_seconds)
    return timing.median_rate, trainer.global_samples


def main(argv):
    del argv
    print(machine.describe())
    size, images_per_batch = FLAGS.image_size, FLAGS.images_per_batch
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        data_dir = str(scratch / "shards")
        print(f"shards: {harness.build_shards(data_dir, FLAGS.source, FLAGS.num_shapes)}")
        load = harness.LoadMonitor()
        files = manifest_lib.split_files(data_dir, "train")
        standard = pipeline.PipelineConfig(image_size=size, images_per_batch=images_per_batch)
        samples_per_image = standard.samples_per_image

        rows = []  # (what, images/s or None, samples/s)
        canvases = pipeline.canvas_resizer(data_dir, standard)
        for name, function in stage_functions(size, canvases).items():
            images = stage_rate(files, function, images_per_batch)
            rows.append((name, images, images * samples_per_image))
        for input_config, batches in (
            ("standard", FLAGS.batches),
            ("config2", FLAGS.batches // 2),
        ):
            pipeline_config = pipeline.PipelineConfig(
                size, images_per_batch, input_config=input_config
            )
            samples = pipeline_rate(data_dir, pipeline_config, batches)
            name = (
                f"pipeline {input_config}, {size} px, {images_per_batch} x "
                f"{pipeline_config.samples_per_image} samples"
            )
            rows.append((name, samples / pipeline_config.samples_per_image, samples))
        raw_images, standard_samples = rows[0][1], rows[-2][2]

        model_rows = []  # (what, samples/s)
        for spec in FLAGS.models:
            samples, per_step = model_rate(data_dir, scratch, spec, end_to_end=False)
            model_rows.append(
                (f"train step {spec} px, {per_step} samples, batch in memory", samples)
            )
        if FLAGS.end_to_end:
            samples, per_step = model_rate(data_dir, scratch, FLAGS.end_to_end, end_to_end=True)
            model_rows.append(
                (
                    f"train step {FLAGS.end_to_end} px, {per_step} samples, fed by the pipeline",
                    samples,
                )
            )

    print(f"\n{load.describe()}")
    cores = psutil.cpu_count()
    print(
        f"\n| input stage (cumulative) | images/s | samples/s | CPU ms an image ({cores} cores) "
        "| raw read / this |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name, images, samples in rows:
        print(
            f"| {name} | {images:,.0f} | {samples:,.0f} | {1000 * cores / images:.2f} "
            f"| {raw_images / images:,.1f} |"
        )
    if model_rows:
        print(f"\n| model (trainer's step) | samples/s | pipeline standard {size} px / this |")
        print("| --- | --- | --- |")
        for name, samples in model_rows:
            print(f"| {name} | {samples:,.1f} | {standard_samples / samples:.1f} |")
    print(
        f"\nsamples/s of a stage = images/s x {samples_per_image}. Target: pipeline standard "
        f">= 1,000 samples/s on {cores} cores: {standard_samples:,.0f}."
    )


if __name__ == "__main__":
    app.run(main)
