"""Tests for the COCO readers: tensorflow-datasets (mocked, no download) and the official files."""

import json
import os

import cv2
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from fusion_tf.data.records import Problem, Record, SourceFormatError
from fusion_tf.data.sources.coco import read_coco_official, read_coco_tfds

# tfds split -> (file name, captions) of its fake examples
TFDS_EXAMPLES = {
    "train": [("COCO_train2014_000000000001.jpg", ["A cat on a mat.", "  "])],
    "restval": [("COCO_val2014_000000000002.jpg", ["A dog.", "A brown dog."])],
    "val": [("COCO_val2014_000000000003.jpg", ["A bus."])],
    "test": [
        ("COCO_val2014_000000000004.jpg", ["A tram."]),
        ("COCO_val2014_000000000003.jpg", ["The bus again."]),
    ],
}


def _fake_coco_captions(self, split, decoders=None, read_config=None, shuffle_files=False):
    """Stands in for prepared data: real coco_captions features, encoded, then decoded by tfds."""
    features = self.info.features
    serialized = []
    for index, (file_name, captions) in enumerate(TFDS_EXAMPLES[split]):
        example = {
            "image": np.full((6, 8, 3), 30 * index, np.uint8),
            "image/filename": file_name,
            "image/id": index,
            "objects": {
                "id": [],
                "area": [],
                "bbox": np.zeros((0, 4), np.float32),
                "is_crowd": [],
                "label": [],
            },
            "captions": [{"text": text, "id": number} for number, text in enumerate(captions)],
        }
        serialized.append(features.serialize_example(features.encode_example(example)))
    dataset = tf.data.Dataset.from_tensor_slices(serialized)
    return dataset.map(lambda record: features.deserialize_example(record, decoders=decoders))


def test_tfds_reader_keeps_jpeg_bytes_and_maps_splits(tmp_path):
    with tfds.testing.mock_data(as_dataset_fn=_fake_coco_captions):
        items = list(read_coco_tfds(tmp_path))

    records = [item for item in items if isinstance(item, Record)]
    assert [(r.image_id, r.split, r.captions) for r in records] == [
        ("COCO_train2014_000000000001.jpg", "train", ("A cat on a mat.",)),
        ("COCO_val2014_000000000002.jpg", "train", ("A dog.", "A brown dog.")),
        ("COCO_val2014_000000000003.jpg", "val", ("A bus.",)),
        ("COCO_val2014_000000000004.jpg", "test", ("A tram.",)),
    ]
    assert records[1].origin == "coco_captions/restval[0]"
    for record in records:
        assert isinstance(record.image, bytes)
        assert record.image[:2] == b"\xff\xd8"  # still an encoded JPEG, not decoded pixels
        assert cv2.imdecode(np.frombuffer(record.image, np.uint8), cv2.IMREAD_COLOR).shape == (
            6,
            8,
            3,
        )
    assert [item for item in items if isinstance(item, Problem)] == [
        Problem(
            "COCO_train2014_000000000001.jpg",
            "coco_captions/train[0].captions[1]",
            "empty or whitespace-only caption dropped",
        ),
        Problem(
            "COCO_val2014_000000000003.jpg",
            "coco_captions/test[1]",
            "duplicate image id, first at coco_captions/val[0]",
        ),
    ]


@pytest.fixture
def official_layout(tmp_path):
    """Official caption files and a Karpathy split file that disagree in the ways real data can."""
    annotations = tmp_path / "annotations"
    annotations.mkdir()
    train = {
        "images": [
            {"id": 1, "file_name": "COCO_train2014_000000000001.jpg"},
            {"file_name": "no_id.jpg"},
        ],
        "annotations": [
            {"id": 11, "image_id": 1, "caption": "Official caption one."},
            {"id": 12, "image_id": 1, "caption": "Official caption two."},
            {"id": 13, "image_id": 99, "caption": "Orphan caption."},
            {"id": 14, "image_id": 1},
        ],
    }
    val = {
        "images": [
            {"id": 2, "file_name": "COCO_val2014_000000000002.jpg"},
            {"id": 3, "file_name": "COCO_val2014_000000000003.jpg"},
            {"id": 5, "file_name": "COCO_val2014_000000000005.jpg"},
        ],
        "annotations": [
            {"id": 21, "image_id": 2, "caption": "A val image."},
            {"id": 31, "image_id": 3, "caption": " "},
            {"id": 51, "image_id": 5, "caption": "Not in any Karpathy split."},
        ],
    }
    (annotations / "captions_train2014.json").write_text(json.dumps(train))
    (annotations / "captions_val2014.json").write_text(json.dumps(val))
    karpathy_entries = [
        ("train2014", "COCO_train2014_000000000001.jpg", "train", [{"raw": "Karpathy's copy."}]),
        ("val2014", "COCO_val2014_000000000002.jpg", "restval", []),
        ("val2014", "COCO_val2014_000000000003.jpg", "test", []),
        ("val2014", "COCO_val2014_000000000004.jpg", "val", []),
    ]
    karpathy = {
        "images": [
            {"filepath": filepath, "filename": filename, "split": split, "sentences": sentences}
            for filepath, filename, split, sentences in karpathy_entries
        ]
    }
    (tmp_path / "dataset_coco.json").write_text(json.dumps(karpathy))
    return tmp_path


def test_official_reader_takes_captions_from_coco_and_splits_from_karpathy(official_layout):
    annotation_paths = [
        official_layout / "annotations" / "captions_train2014.json",
        official_layout / "annotations" / "captions_val2014.json",
    ]
    items = list(
        read_coco_official(annotation_paths, official_layout / "dataset_coco.json", official_layout)
    )
    records = [item for item in items if isinstance(item, Record)]
    problems = {(p.item, p.origin): p.reason for p in items if isinstance(p, Problem)}

    assert records == [
        Record(
            "COCO_train2014_000000000001.jpg",
            os.path.join(official_layout, "train2014", "COCO_train2014_000000000001.jpg"),
            ("Official caption one.", "Official caption two."),
            "train",
            "dataset_coco.json: images[0]",
        ),
        Record(
            "COCO_val2014_000000000002.jpg",
            os.path.join(official_layout, "val2014", "COCO_val2014_000000000002.jpg"),
            ("A val image.",),
            "train",
            "dataset_coco.json: images[1]",
        ),
    ]
    assert problems == {
        ("images[1]", "captions_train2014.json: images[1]"): "image has no 'id' and 'file_name'",
        ("image_id 99", "captions_train2014.json: annotations[2]"): (
            "annotation refers to an image id not in 'images'"
        ),
        (
            "annotations[3]",
            "captions_train2014.json: annotations[3]",
        ): "annotation has no 'caption' string",
        ("COCO_val2014_000000000003.jpg", "captions_val2014.json: annotations[1]"): (
            "empty or whitespace-only caption dropped"
        ),
        ("COCO_val2014_000000000003.jpg", "dataset_coco.json: images[2]"): (
            "no captions left after dropping empty ones"
        ),
        ("COCO_val2014_000000000004.jpg", "dataset_coco.json: images[3]"): (
            "image has no captions in captions_train2014.json, captions_val2014.json"
        ),
        ("COCO_val2014_000000000005.jpg", "captions_val2014.json: annotations[2]"): (
            "image is in no split of dataset_coco.json"
        ),
    }


def test_malformed_official_file_is_a_format_error(official_layout):
    broken = official_layout / "annotations" / "captions_val2014.json"
    broken.write_text('{"images": [],\n "annotations": [\n {"id": 1 "image_id": 2}]}')

    with pytest.raises(SourceFormatError, match=r"captions_val2014\.json:3: invalid JSON"):
        list(read_coco_official([broken], official_layout / "dataset_coco.json", official_layout))

    broken.write_text('{"images": []}')
    with pytest.raises(SourceFormatError, match="not a COCO captions file"):
        list(read_coco_official([broken], official_layout / "dataset_coco.json", official_layout))
