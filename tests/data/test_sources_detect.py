"""Tests for layout detection: which reader each folder layout gets, and what a failure says."""

import collections
import json
import os
import shutil

import cv2
import numpy as np
import pytest

from fusion_tf.data.records import Problem, Record
from fusion_tf.data.sources import open_source


def _write_jpeg(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((4, 4, 3), 128, np.uint8))


def _write_tokens(path, image_names):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}#0\tA photo of {name} .\n" for name in image_names))


def _karpathy(image_names, split="train", filepath=None):
    images = []
    for name in image_names:
        entry = {"filename": name, "split": split, "sentences": [{"raw": f"A photo of {name}."}]}
        if filepath:
            entry["filepath"] = filepath
        images.append(entry)
    return json.dumps({"images": images})


def test_flickr8k_sample_prefers_the_karpathy_json(flickr8k_sample_dir):
    source = open_source("flickr8k", flickr8k_sample_dir)

    assert source.name == "flickr8k"
    assert source.describe() == {
        "dataset": "flickr8k",
        "reader": "karpathy",
        "files": {
            "index": str(flickr8k_sample_dir / "dataset_flickr8k.json"),
            "images": str(flickr8k_sample_dir / "images"),
        },
        "settings": {},
    }
    json.dumps(source.describe())
    records = list(source.records())
    assert len(records) == 875
    assert collections.Counter(record.split for record in records) == {
        "train": 762,
        "val": 57,
        "test": 56,
    }
    # records() starts a fresh pass each time.
    assert len(list(source.records())) == 875


def test_sample_token_file_alone_puts_everything_in_train(flickr8k_sample_dir, tmp_path):
    shutil.copy(flickr8k_sample_dir / "Flickr8k.token.txt", tmp_path)
    os.symlink(flickr8k_sample_dir / "images", tmp_path / "images")
    source = open_source("flickr8k", tmp_path)

    assert source.reader == "flickr_tokens"
    assert source.describe()["settings"] == {"splits": "every image in train: no split lists found"}
    records = list(source.records())
    assert len(records) == 875
    assert {record.split for record in records} == {"train"}
    assert all(os.path.isfile(record.image) for record in records)


def test_official_flickr8k_archives(tmp_path):
    _write_tokens(tmp_path / "Flickr8k_text" / "Flickr8k.token.txt", ["a.jpg", "b.jpg", "c.jpg"])
    (tmp_path / "Flickr8k_text" / "Flickr_8k.trainImages.txt").write_text("a.jpg\n")
    (tmp_path / "Flickr8k_text" / "Flickr_8k.devImages.txt").write_text("b.jpg\n")
    for name in ("a.jpg", "b.jpg"):
        _write_jpeg(tmp_path / "Flickr8k_Dataset" / "Flicker8k_Dataset" / name)
    source = open_source("flickr8k", tmp_path)

    assert source.reader == "flickr_tokens"
    assert source.files == {
        "index": str(tmp_path / "Flickr8k_text" / "Flickr8k.token.txt"),
        "images": str(tmp_path / "Flickr8k_Dataset" / "Flicker8k_Dataset"),
        "train_list": str(tmp_path / "Flickr8k_text" / "Flickr_8k.trainImages.txt"),
        "val_list": str(tmp_path / "Flickr8k_text" / "Flickr_8k.devImages.txt"),
    }
    items = list(source.records())
    assert [(item.image_id, item.split) for item in items if isinstance(item, Record)] == [
        ("a.jpg", "train"),
        ("b.jpg", "val"),
    ]
    assert [item.item for item in items if isinstance(item, Problem)] == ["c.jpg"]


def test_flickr30k_layouts(tmp_path):
    _write_tokens(tmp_path / "results_20130124.token", ["1.jpg", "2.jpg"])
    _write_jpeg(tmp_path / "flickr30k-images" / "1.jpg")
    source = open_source("flickr30k", tmp_path)
    assert source.reader == "flickr_tokens"
    assert {record.split for record in source.records()} == {"train"}

    (tmp_path / "dataset_flickr30k.json").write_text(_karpathy(["1.jpg", "2.jpg"], split="test"))
    source = open_source("flickr30k", tmp_path)
    assert source.reader == "karpathy"
    assert source.files["images"] == str(tmp_path / "flickr30k-images")
    assert {record.split for record in source.records()} == {"test"}


def test_coco_layouts(tmp_path):
    (tmp_path / "val2014").mkdir()
    (tmp_path / "dataset_coco.json").write_text(_karpathy(["COCO_val2014_1.jpg"], "val", "val2014"))
    source = open_source("coco", tmp_path)
    assert source.reader == "karpathy"
    assert source.files["images"] == str(tmp_path)
    assert [record.image for record in source.records()] == [
        str(tmp_path / "val2014" / "COCO_val2014_1.jpg")
    ]

    (tmp_path / "annotations").mkdir()
    annotations = {
        "images": [{"id": 1, "file_name": "COCO_val2014_1.jpg"}],
        "annotations": [{"id": 7, "image_id": 1, "caption": "An official caption."}],
    }
    (tmp_path / "annotations" / "captions_val2014.json").write_text(json.dumps(annotations))
    source = open_source("coco", tmp_path)
    assert source.reader == "coco_official"
    assert source.files["captions_val2014.json"] == str(
        tmp_path / "annotations" / "captions_val2014.json"
    )
    assert [record.captions for record in source.records()] == [("An official caption.",)]


def test_coco_tfds_folder(tmp_path):
    (tmp_path / "coco_captions").mkdir()
    source = open_source("coco", tmp_path)

    assert source.reader == "coco_tfds"
    assert source.describe()["files"] == {"tfds_data_dir": str(tmp_path)}
    assert source.describe()["settings"] == {"tfds_name": "coco_captions", "download": False}
    assert open_source("coco", None, download=True).describe()["settings"]["download"] is True


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        (
            "flickr8k",
            ["dataset_flickr8k.json", "Flickr8k_text/dataset_flickr8k.json", "Flickr8k.token.txt",
             "Flickr8k_text/Flickr8k.token.txt"],
        ),
        (
            "flickr30k",
            ["dataset_flickr30k.json", "flickr30k/dataset_flickr30k.json", "results_20130124.token",
             "results.token", "flickr30k/results.token"],
        ),
        (
            "coco",
            ["dataset_coco.json", "annotations/dataset_coco.json", "coco_captions",
             "annotations/captions_train2014.json", "annotations/captions_val2014.json"],
        ),
    ],
)  # fmt: skip
def test_nothing_found_lists_what_was_looked_for(tmp_path, dataset, expected):
    (tmp_path / "unrelated.txt").write_text("nothing to see")

    with pytest.raises(
        FileNotFoundError, match=f"no {dataset} data found under {tmp_path}"
    ) as raised:
        open_source(dataset, tmp_path)
    message = str(raised.value)
    for relative_path in expected:
        assert str(tmp_path / relative_path) in message


def test_missing_image_folder_says_where_it_looked(tmp_path):
    (tmp_path / "dataset_flickr8k.json").write_text(_karpathy(["a.jpg"]))

    with pytest.raises(FileNotFoundError, match="pass image_dir=") as raised:
        open_source("flickr8k", tmp_path)
    assert str(tmp_path / "Flickr8k_Dataset") in str(raised.value)

    _write_jpeg(tmp_path / "elsewhere" / "a.jpg")
    source = open_source("flickr8k", tmp_path, image_dir=tmp_path / "elsewhere")
    assert [record.image for record in source.records()] == [str(tmp_path / "elsewhere" / "a.jpg")]


def test_custom_file_or_folder(tmp_path):
    (tmp_path / "captions.csv").write_text("image,caption\na.jpg,A dog.\n")
    from_folder = open_source("custom", tmp_path)
    from_file = open_source("custom", tmp_path / "captions.csv", delimiter=",")

    assert from_folder.files == from_file.files == {"index": str(tmp_path / "captions.csv")}
    assert from_folder.settings["delimiter"] == "auto"
    assert "train 90%, val 5%, test 5%" in from_folder.settings["splits"]
    assert [record.captions for record in from_file.records()] == [("A dog.",)]

    (tmp_path / "more.jsonl").write_text('{"image": "b.jpg", "caption": "A cat."}\n')
    with pytest.raises(ValueError, match="several caption files"):
        open_source("custom", tmp_path)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="looked for") as raised:
        open_source("custom", empty)
    assert str(empty / "*.csv") in str(raised.value)
    assert str(empty / "*.jsonl") in str(raised.value)


def test_shapes_needs_no_files():
    source = open_source("shapes", None, num_train=3, num_val=2, num_test=1, seed=5)

    assert source.describe() == {
        "dataset": "shapes",
        "reader": "shapes",
        "files": {},
        "settings": {"seed": 5, "num_train": 3, "num_val": 2, "num_test": 1, "image_size": 128},
    }
    assert collections.Counter(record.split for record in source.records()) == {
        "train": 3,
        "val": 2,
        "test": 1,
    }


def test_bad_requests(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'flickr9k'"):
        open_source("flickr9k", tmp_path)
    with pytest.raises(
        ValueError, match="unknown option\\(s\\) num_images for shapes; it accepts: seed"
    ):
        open_source("shapes", None, num_images=3)
    with pytest.raises(ValueError, match="flickr8k needs data_dir"):
        open_source("flickr8k", None)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_source("flickr8k", tmp_path / "missing")
