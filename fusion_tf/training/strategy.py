"""Picks the tf.distribute strategy: local GPUs, several workers from TF_CONFIG, or a TPU."""

import os

import tensorflow as tf

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker", "tpu")


def make_strategy(name: str = "auto", tpu: str = "") -> tf.distribute.Strategy:
    """auto: MirroredStrategy over 2+ local GPUs, else one device (GPU if any, else CPU).

    Multi-worker and TPU strategies are created before anything lists devices: listing them starts
    TensorFlow's runtime, after which collective ops can no longer be configured.
    """
    if name in ("multi_worker", "tpu"):
        return _cluster_strategy(name, tpu)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        name = "mirrored" if len(gpus) > 1 else "one_device"
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}")


def _cluster_strategy(name: str, tpu: str) -> tf.distribute.Strategy:
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "--strategy=multi_worker reads the cluster from the TF_CONFIG environment "
                'variable, e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                '"task": {"type": "worker", "index": 0}}; it is not set'
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes summaries, the best checkpoint and exports (worker 0)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    if resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief
