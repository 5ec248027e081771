"""The TFRecord layout: feature keys, shard and manifest names, shared by the builder and the pipeline.

One `tf.train.Example` per image holds the image as JPEG (256 x 256, the paper's size), its id, its
class index (contiguous over the train split, -1 elsewhere; the image and its captions share it),
its caption texts and its captions encoded as PNG images, in the same order.
"""

import re

import tensorflow as tf

IMAGE = "image/encoded"
IMAGE_ID = "image/id"
CLASS = "image/class"
CAPTION_TEXT = "caption/text"
CAPTION_IMAGE = "caption/encoded"

NO_CLASS = -1  # val and test images are not training classes

MANIFEST_FILE = "manifest.json"
SKIPPED_FILE = "skipped.jsonl"
# The build's word vectors and layout; a training run keeps a copy (run_folder.RUN_ENCODER_DIR).
BUILD_ENCODER_DIR = "encoder"

_SHARD_PATTERN = re.compile(r"^(?P<split>[a-z]+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.tfrecord$")


def shard_name(split: str, index: int, count: int) -> str:
    """File name of shard `index` of `count` of a split: train-00000-of-00016.tfrecord."""
    return f"{split}-{index:05d}-of-{count:05d}.tfrecord"


def parse_shard_name(name: str) -> tuple[str, int, int] | None:
    """(split, index, count) of a shard file name, or None for any other file."""
    match = _SHARD_PATTERN.match(name)
    if match is None:
        return None
    return match["split"], int(match["index"]), int(match["count"])


def _bytes_feature(values: list[bytes]) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def make_example(
    image_jpeg: bytes,
    image_id: str,
    class_index: int,
    captions: list[str],
    caption_pngs: list[bytes],
) -> tf.train.Example:
    """One image's Example; `caption_pngs[i]` is the encoded image of `captions[i]`."""
    if len(captions) != len(caption_pngs) or not captions:
        raise ValueError(
            f"{image_id}: {len(captions)} captions and {len(caption_pngs)} encoded captions"
        )
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                IMAGE: _bytes_feature([image_jpeg]),
                IMAGE_ID: _bytes_feature([image_id.encode("utf-8")]),
                CLASS: tf.train.Feature(int64_list=tf.train.Int64List(value=[class_index])),
                CAPTION_TEXT: _bytes_feature([caption.encode("utf-8") for caption in captions]),
                CAPTION_IMAGE: _bytes_feature(caption_pngs),
            }
        )
    )


FEATURES = {
    IMAGE: tf.io.FixedLenFeature([], tf.string),
    IMAGE_ID: tf.io.FixedLenFeature([], tf.string),
    CLASS: tf.io.FixedLenFeature([], tf.int64),
    CAPTION_TEXT: tf.io.VarLenFeature(tf.string),
    CAPTION_IMAGE: tf.io.VarLenFeature(tf.string),
}


def parse_example(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
    """Parses one serialized Example into dense tensors (captions as 1-D string tensors)."""
    parsed = tf.io.parse_single_example(serialized, FEATURES)
    return {
        IMAGE: parsed[IMAGE],
        IMAGE_ID: parsed[IMAGE_ID],
        CLASS: parsed[CLASS],
        CAPTION_TEXT: tf.sparse.to_dense(parsed[CAPTION_TEXT]),
        CAPTION_IMAGE: tf.sparse.to_dense(parsed[CAPTION_IMAGE]),
    }


def parse_example_numpy(serialized: bytes) -> dict:
    """Parses one Example without TensorFlow ops, for tools that inspect shards."""
    example = tf.train.Example.FromString(serialized)
    feature = example.features.feature
    return {
        IMAGE: feature[IMAGE].bytes_list.value[0],
        IMAGE_ID: feature[IMAGE_ID].bytes_list.value[0].decode("utf-8"),
        CLASS: int(feature[CLASS].int64_list.value[0]),
        CAPTION_TEXT: [value.decode("utf-8") for value in feature[CAPTION_TEXT].bytes_list.value],
        CAPTION_IMAGE: list(feature[CAPTION_IMAGE].bytes_list.value),
    }


__all__ = [
    "CAPTION_IMAGE",
    "CAPTION_TEXT",
    "CLASS",
    "BUILD_ENCODER_DIR",
    "FEATURES",
    "IMAGE",
    "IMAGE_ID",
    "MANIFEST_FILE",
    "NO_CLASS",
    "SKIPPED_FILE",
    "make_example",
    "parse_example",
    "parse_example_numpy",
    "parse_shard_name",
    "shard_name",
]
