"""End to end: raw data sets to shards whose contents, classes, checksums and encoded captions are right."""

import hashlib
import json

import numpy as np
import pytest
import tensorflow as tf

import tfrecords_builder
from fusion_tf.data import schema
from fusion_tf.text import TextImageEncoder
from tfrecords_builder import BuildConfig


def check_build(output_dir, read_split, expected: dict[str, list[tuple[str, list[str]]]]) -> dict:
    """Checks a finished build against the expected (image id, captions) of each split, in order."""
    manifest = json.loads((output_dir / schema.MANIFEST_FILE).read_text())
    assert tfrecords_builder.is_complete(output_dir, verify_checksums=True)
    encoder = TextImageEncoder.load(output_dir / schema.BUILD_ENCODER_DIR)
    for split, images in expected.items():
        examples = read_split(output_dir, split)
        summary = manifest["splits"][split]
        assert [example[schema.IMAGE_ID] for example in examples] == [i for i, _ in images]
        assert [example[schema.CAPTION_TEXT] for example in examples] == [c for _, c in images]
        assert summary["images"] == len(images)
        assert summary["captions"] == sum(len(captions) for _, captions in images)
        assert sum(shard["images"] for shard in summary["shards"]) == len(images)
        for shard in summary["shards"]:
            data = (output_dir / shard["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == shard["sha256"]
            assert len(data) == shard["bytes"]
        classes = [example[schema.CLASS] for example in examples]
        if split == "train":
            assert classes == list(range(len(images)))  # contiguous, in source order
        else:
            assert set(classes) <= {schema.NO_CLASS}
        for example in examples:
            assert tf.io.decode_jpeg(example[schema.IMAGE]).shape == (256, 256, 3)
            decoded = np.stack(
                [tf.io.decode_png(png).numpy() for png in example[schema.CAPTION_IMAGE]]
            )
            np.testing.assert_array_equal(decoded, encoder.encode(example[schema.CAPTION_TEXT]))
    assert manifest["num_classes"] == len(expected["train"])
    return manifest


def test_tiny_custom_build(tmp_path, tiny_data, read_split, read_skipped):
    raw = tiny_data.dataset(counts={"train": 6, "val": 2, "test": 1})
    output_dir = tmp_path / "out"
    config = BuildConfig("custom", str(output_dir), str(raw), images_per_shard=4, num_workers=2)
    manifest = tfrecords_builder.build(config)

    number = iter(range(100))
    expected = {
        split: [(f"{split}{i}.jpg", tiny_data.captions(next(number))) for i in range(count)]
        for split, count in (("train", 6), ("val", 2), ("test", 1))
    }
    assert check_build(output_dir, read_split, expected) == manifest
    assert [shard["file"] for shard in manifest["splits"]["train"]["shards"]] == [
        "train-00000-of-00002.tfrecord",
        "train-00001-of-00002.tfrecord",
    ]
    assert [shard["images"] for shard in manifest["splits"]["train"]["shards"]] == [4, 2]
    assert manifest["skipped"] == {
        "train": 0, "val": 0, "test": 0, "no_split": 0, "lines": 0, "file": schema.SKIPPED_FILE
    }  # fmt: skip
    assert read_skipped(output_dir) == []
    assert manifest["encoding_statistics"]["total"]["captions"] == 18
    assert manifest["encoder"]["word_vectors"]["training_captions"] == 12  # train captions only
    assert manifest["encoder"]["layout"]["superpixel_size"] == 13  # the paper's layout kept
    assert manifest["source"]["reader"] == "custom"
    assert sorted(path.name for path in output_dir.iterdir()) == [
        "encoder",
        "manifest.json",
        "skipped.jsonl",
        "test-00000-of-00001.tfrecord",
        "train-00000-of-00002.tfrecord",
        "train-00001-of-00002.tfrecord",
        "val-00000-of-00001.tfrecord",
    ]

    # A second build with the same settings finds the first and writes nothing.
    assert tfrecords_builder.build(config) == manifest


def test_longer_word_vectors_get_a_canvas_that_the_99th_percentile_caption_fits(
    tmp_path, tiny_data, read_split
):
    raw = tiny_data.dataset(counts={"train": 6, "val": 1, "test": 1})
    captions_file = raw / "captions.csv"
    header, *rows = captions_file.read_text().splitlines()
    # Each caption three times over, 21 words: 48-d visual words at 13 px fit 16 a canvas.
    tripled = []
    for row in rows:
        image, caption, split = row.split(",")
        tripled.append(",".join([image, " ".join([caption] * 3), split]))
    captions_file.write_text("\n".join([header, *tripled]) + "\n")

    output_dir = tmp_path / "out"
    manifest = tfrecords_builder.build(
        BuildConfig("custom", str(output_dir), str(raw), word_vector_dim=48, num_workers=1)
    )
    assert manifest["encoder"]["layout"]["superpixel_size"] == 12
    assert manifest["encoder"]["capacity"] == 25
    assert manifest["encoding_statistics"]["total"]["dropped_words"] == 0
    encoder = TextImageEncoder.load(output_dir / schema.BUILD_ENCODER_DIR)
    [example, *_] = read_split(output_dir, "val")
    decoded = tf.io.decode_png(example[schema.CAPTION_IMAGE][0]).numpy()
    np.testing.assert_array_equal(decoded, encoder.encode(example[schema.CAPTION_TEXT][:1])[0])


def test_a_split_without_images_gets_one_empty_shard(tmp_path, tiny_data, read_split):
    raw = tiny_data.dataset(counts={"train": 3, "test": 1})
    output_dir = tmp_path / "out"
    manifest = tfrecords_builder.build(
        BuildConfig("custom", str(output_dir), str(raw), num_workers=1)
    )
    assert manifest["splits"]["val"] == {
        "images": 0,
        "captions": 0,
        "shards": [
            {
                "file": "val-00000-of-00001.tfrecord",
                "images": 0,
                "captions": 0,
                "bytes": 0,
                "sha256": hashlib.sha256(b"").hexdigest(),
            }
        ],
    }
    assert read_split(output_dir, "val") == []
    assert len(read_split(output_dir, "train")) == 3


@pytest.mark.slow
def test_flickr8k_sample_build(tmp_path, flickr8k_sample_dir, read_split):
    output_dir = tmp_path / "out"
    config = BuildConfig(
        "flickr8k", str(output_dir), str(flickr8k_sample_dir), images_per_shard=300, num_workers=2
    )
    manifest = tfrecords_builder.build(config)

    karpathy = json.loads((flickr8k_sample_dir / "dataset_flickr8k.json").read_text())
    expected = {"train": [], "val": [], "test": []}
    for entry in karpathy["images"]:
        captions = [sentence["raw"].strip() for sentence in entry["sentences"]]
        expected[entry["split"]].append((entry["filename"], captions))
    check_build(output_dir, read_split, expected)
    assert {split: manifest["splits"][split]["images"] for split in expected} == {
        "train": 762,
        "val": 57,
        "test": 56,
    }
    assert [len(manifest["splits"][split]["shards"]) for split in expected] == [3, 1, 1]
    assert manifest["skipped"]["lines"] == 0
    assert manifest["encoder"]["word_vectors"]["training_captions"] == 762 * 5
