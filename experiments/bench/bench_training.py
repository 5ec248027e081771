"""Training samples/s and achieved FLOP/s of the trainer's step, against a large matrix product.

    python -m experiments.bench.bench_training
    python -m experiments.bench.bench_training --cases=tiny:80 --xla=off  # quick check
    python -m experiments.bench.bench_training --mixed_precision=bfloat16  # GPU, or AVX512-BF16 CPU

Each case is the trainer's own train step (harness.py: softmax + center loss + weight decay,
backward, Adam, `strategy.run`; with --xla=on the replica step is compiled with XLA as
`TrainConfig.jit_compile` does) fed one real pipeline batch from memory, so only the model is
timed. Shards are built first into a temporary folder (real photos when ../shared/data is
there). Every case runs one untimed step (tracing, compilation), then --steps or more timed
steps until --min_seconds have passed; samples/s is taken from the median step, FLOP/s from
the fastest.

FLOPs are counted analytically: 2 x multiply-adds of every convolution and dense layer of the
model (backbone and softmax classifier), from each Keras layer's kernel and output shapes;
batch norm, activations, residual sums, losses and the optimizer are not counted. A training
sample costs 3 x its forward FLOPs (the backward pass computes the input gradient and the
kernel gradient, each as costly as the forward product; the stem's unneeded input gradient is
counted anyway). With --profile_flops, TensorFlow's profiler counts the forward graph's float
operations (every op, batch norm included) as a cross-check.

The baseline is an N x N by N x N `tf.matmul` in the compute dtype, best of --matmul_repeats,
timed in the same process and thread pools before and after the cases; "% of matmul" is the
fastest step's FLOP/s over the faster of the two. --op_breakdown traces a few steps of one case
with TensorFlow's profiler and prints kernel time per op category (CPU only: it reads the host's
inter-op threads). The machine's load from other processes during the run is printed too.
"""

import collections
import gc
import pathlib
import tempfile
import time

import keras
import tensorflow as tf
from absl import app, flags

from experiments.bench import harness
from fusion_tf import machine
from fusion_tf.training.precision import MIXED_PRECISION

FLAGS = flags.FLAGS
flags.DEFINE_list("cases", ["facenet:160", "facenet:256", "tiny:80"], "preset:image_size cases.")
flags.DEFINE_list("xla", ["off", "on"], "XLA settings to time each case with: off, on.")
flags.DEFINE_integer(
    "facenet_images_per_batch", 5, "Images per facenet batch (x6 samples); the paper uses 45."
)
flags.DEFINE_integer("tiny_images_per_batch", 45, "Images per tiny batch (x6 samples).")
flags.DEFINE_integer("steps", 3, "Timed train steps per case at least.")
flags.DEFINE_float("min_seconds", 10.0, "Timed steps go on until this many seconds passed.")
flags.DEFINE_enum("mixed_precision", "none", MIXED_PRECISION, "TrainConfig.mixed_precision.")
flags.DEFINE_integer("matmul_size", 4096, "Side N of the baseline matrix product.")
flags.DEFINE_integer("matmul_repeats", 5, "Timed matrix products; the best counts.")
flags.DEFINE_integer("intra_op_threads", 0, "TensorFlow intra-op threads (0: its default).")
flags.DEFINE_integer("inter_op_threads", 0, "TensorFlow inter-op threads (0: its default).")
flags.DEFINE_bool("profile_flops", True, "Cross-check the FLOP count with TensorFlow's profiler.")
flags.DEFINE_enum("source", "auto", harness.SOURCES, "Shards to build: auto prefers real photos.")
flags.DEFINE_string(
    "op_breakdown",
    "facenet:160",
    "preset:image_size whose XLA-off step is traced for time per op type; empty: none.",
)
flags.DEFINE_integer("op_breakdown_steps", 2, "Steps traced for the op breakdown.")

# Op-type categories of the breakdown, matched in order on TensorFlow's op type names (oneDNN
# kernels are named e.g. _MklNativeConv2DBackpropFilterWithBias).
OP_CATEGORIES = (
    ("convolution backward, input gradient", "Conv2DBackpropInput"),
    ("convolution backward, kernel gradient", "Conv2DBackpropFilter"),
    ("convolution forward", "Conv2D"),
    ("matrix products (dense layers)", "MatMul"),
)
OTHER_OPS = "everything else (batch norm, ReLU, residual sums, losses, Adam)"


def matmul_flops_per_second(size: int, repeats: int, dtype: tf.DType) -> float:
    """Best FLOP/s (2 N^3 a product) of a compiled N x N matrix product."""
    left = tf.random.normal([size, size], dtype=dtype)
    right = tf.random.normal([size, size], dtype=dtype)
    product = tf.function(lambda a, b: tf.matmul(a, b)[0, 0])
    product(left, right).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        product(left, right).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def forward_flops(model) -> int:
    """2 x multiply-adds per sample of the model's convolutions and dense layers."""
    layers = [*model.photo_backbone.layers, model.classifier]
    if model.caption_backbone is not model.photo_backbone:
        raise ValueError("count one tower: the benchmark times towers='single'")
    total = 0
    for layer in layers:
        if isinstance(layer, keras.layers.Conv2D):
            height, width = layer.output.shape[1:3]
            kernel_height, kernel_width, channels_in, channels_out = layer.kernel.shape
            total += 2 * height * width * kernel_height * kernel_width * channels_in * channels_out
        elif isinstance(layer, keras.layers.Dense):
            channels_in, channels_out = layer.kernel.shape
            total += 2 * channels_in * channels_out
    return total


def profiled_forward_flops(model, image_size: int) -> int:
    """Float operations of one sample's forward pass (training mode), by TensorFlow's profiler."""
    forward = tf.function(
        lambda images: model.classifier(model.photo_backbone(images, training=True))
    )
    graph = forward.get_concrete_function(
        tf.TensorSpec([1, image_size, image_size, 3], tf.float32)
    ).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops


def op_time_shares(trainer, iterator, steps: int, log_dir: str) -> tuple[dict, collections.Counter]:
    """Traces `steps` train steps; returns seconds per category and per op type, summed over threads.

    Kernel time is what TensorFlow's profiler records on its inter-op threads ("tf_Compute"); ops
    that run side by side (inception branches) both count, so shares are shares of op time, not of
    the step's wall time.
    """
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    tf.profiler.experimental.start(log_dir)
    for _ in range(steps):
        float(trainer.train_step(iterator)["loss"])
    tf.profiler.experimental.stop()
    space = xplane_pb2.XSpace()
    space.ParseFromString(next(pathlib.Path(log_dir).rglob("*.xplane.pb")).read_bytes())
    by_type = collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" in name and "::" not in name:  # "op_name:OpType", not executor bookkeeping
                    by_type[name.rsplit(":", 1)[1]] += event.duration_ps / 1e12
    by_category = collections.Counter()
    for op_type, seconds in by_type.items():
        category = next((name for name, pattern in OP_CATEGORIES if pattern in op_type), OTHER_OPS)
        by_category[category] += seconds
    return by_category, by_type


def run_case(data_dir: str, model_dir: str, preset: str, size: int, xla: bool) -> dict:
    images_per_batch = (
        FLAGS.facenet_images_per_batch if preset == "facenet" else FLAGS.tiny_images_per_batch
    )
    trainer = harness.make_trainer(
        data_dir,
        model_dir,
        preset,
        size,
        images_per_batch,
        jit_compile=xla,
        mixed_precision=FLAGS.mixed_precision,
    )
    iterator = harness.constant_batch_iterator(trainer)
    timing = harness.time_train_step(trainer, iterator, FLAGS.steps, FLAGS.min_seconds)
    breakdown = None
    if FLAGS.op_breakdown and harness.parse_case(FLAGS.op_breakdown) == (preset, size) and not xla:
        breakdown = op_time_shares(
            trainer, iterator, FLAGS.op_breakdown_steps, str(pathlib.Path(model_dir) / "trace")
        )
    forward = forward_flops(trainer.model)
    profiled = profiled_forward_flops(trainer.model, size) if FLAGS.profile_flops else None
    del trainer
    keras.backend.clear_session()
    gc.collect()
    return {"timing": timing, "forward": forward, "profiled": profiled, "breakdown": breakdown}


def print_breakdown(preset: str, size: int, by_category: dict, by_type: dict) -> None:
    total = sum(by_category.values())
    steps = FLAGS.op_breakdown_steps
    print(
        f"\nwhere {preset} {size} px (XLA off) spends its op time: {total / steps:.2f} s of "
        "kernel time a step, summed over inter-op threads\n"
    )
    print("| op category | s a step | share | kernel time / forward convolutions' |")
    print("| --- | --- | --- | --- |")
    forward = by_category.get("convolution forward", 0.0) or float("nan")
    for name, seconds in by_category.most_common():
        print(
            f"| {name} | {seconds / steps:.2f} | {100 * seconds / total:.0f}% | {seconds / forward:.2f} |"
        )
    top = ", ".join(f"{op} {100 * seconds / total:.0f}%" for op, seconds in by_type.most_common(8))
    print(f"top op types: {top}")


def main(argv):
    del argv
    print(machine.describe())
    tf.get_logger().setLevel("ERROR")  # the profiler's TF1 deprecation notices
    if FLAGS.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(FLAGS.intra_op_threads)
    if FLAGS.inter_op_threads:
        tf.config.threading.set_inter_op_parallelism_threads(FLAGS.inter_op_threads)
    cases = [harness.parse_case(case) for case in FLAGS.cases]
    if not set(FLAGS.xla) <= {"off", "on"}:
        raise app.UsageError(f"--xla={','.join(FLAGS.xla)}: write off, on or off,on")
    xla_settings = [setting == "on" for setting in FLAGS.xla]
    dtype = tf.float32 if FLAGS.mixed_precision == "none" else tf.as_dtype(FLAGS.mixed_precision)

    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        data_dir = str(scratch / "shards")
        print(f"shards: {harness.build_shards(data_dir, FLAGS.source)}", flush=True)
        load = harness.LoadMonitor()
        matmul_before = matmul_flops_per_second(FLAGS.matmul_size, FLAGS.matmul_repeats, dtype)
        print(f"matmul before: {matmul_before / 1e9:.1f} GFLOP/s", flush=True)
        results = []
        for preset, size in cases:
            for xla in xla_settings:
                model_dir = str(scratch / f"model_{preset}_{size}_{xla}")
                result = run_case(data_dir, model_dir, preset, size, xla)
                results.append((preset, size, xla, result))
                timing = result["timing"]
                print(
                    f"{preset} {size} px XLA {'on' if xla else 'off'}: "
                    f"{timing.median_rate:.1f} samples/s (first step {timing.first_step_seconds:.0f} s)",
                    flush=True,
                )
        matmul_after = matmul_flops_per_second(FLAGS.matmul_size, FLAGS.matmul_repeats, dtype)
    matmul = max(matmul_before, matmul_after)

    print(f"\n{load.describe()}")
    threads = (
        f"intra-op {tf.config.threading.get_intra_op_parallelism_threads() or 'default'}, "
        f"inter-op {tf.config.threading.get_inter_op_parallelism_threads() or 'default'}"
    )
    print(
        f"matmul {FLAGS.matmul_size}^2 x {FLAGS.matmul_size}^2 {dtype.name}: "
        f"{matmul_before / 1e9:.1f} GFLOP/s before the cases, {matmul_after / 1e9:.1f} after "
        f"(best {matmul / 1e9:.1f}); threads: {threads}; mixed precision: {FLAGS.mixed_precision}"
    )
    print(
        "\n| model | px | XLA | samples/step | first step s | samples/s median | samples/s best "
        "| train GFLOP/sample | GFLOP/s best | % of matmul |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for preset, size, xla, result in results:
        timing = result["timing"]
        train_flops = 3 * result["forward"]
        achieved = train_flops * timing.best_rate
        print(
            f"| {preset} | {size} | {'on' if xla else 'off'} | {timing.samples_per_step} "
            f"| {timing.first_step_seconds:.0f} | {timing.median_rate:.1f} | {timing.best_rate:.1f} "
            f"| {train_flops / 1e9:.3f} | {achieved / 1e9:.1f} | {100 * achieved / matmul:.0f}% |"
        )
    print("target: facenet at 160 px >= 75% of the matmul's FLOP/s")
    for preset, size, _, result in results:
        if result["breakdown"]:
            print_breakdown(preset, size, *result["breakdown"])
    if FLAGS.profile_flops:
        print(
            "\nforward FLOPs a sample: analytic (conv + dense) vs TensorFlow's profiler (all ops)"
        )
        seen = set()
        for preset, size, _, result in results:
            if (preset, size) not in seen:
                seen.add((preset, size))
                print(
                    f"  {preset} {size} px: {result['forward'] / 1e9:.3f} vs "
                    f"{result['profiled'] / 1e9:.3f} GFLOP ({result['profiled'] / result['forward']:.3f}x)"
                )


if __name__ == "__main__":
    app.run(main)
