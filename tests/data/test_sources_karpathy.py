"""Tests for the Karpathy split JSON reader, on hand-made files and on the Flickr8k sample."""

import collections
import json
import os

import pytest

from fusion_tf.data.records import Problem, Record, SourceFormatError
from fusion_tf.data.sources.karpathy import read_karpathy


def _sentences(*raws):
    return [{"raw": raw, "tokens": raw.split()} for raw in raws]


@pytest.fixture
def karpathy_file(tmp_path):
    images = [
        {"filename": "a.jpg", "split": "train", "sentences": _sentences(" A dog runs. ", "A dog.")},
        {"filename": "b.jpg", "split": "val", "sentences": _sentences("A cat.", "   ", "")},
        {"filename": "c.jpg", "split": "test", "sentences": _sentences(" ", "\t")},
        {"filename": "d.jpg", "split": "test", "sentences": []},
        {"filename": "a.jpg", "split": "test", "sentences": _sentences("Again.")},
        {"filename": "e.jpg", "split": "holdout", "sentences": _sentences("Odd split.")},
        {
            "filename": "f.jpg",
            "filepath": "val2014",
            "split": "restval",
            "sentences": _sentences("A bus."),
        },
        {"split": "train", "sentences": _sentences("No file name.")},
        {"filename": "g.jpg", "split": "train", "sentences": [{"tokens": ["x"]}, {"raw": "Kept."}]},
        "not an object",
    ]
    path = tmp_path / "dataset_test.json"
    path.write_text(json.dumps({"dataset": "test", "images": images}), encoding="utf-8")
    return path


def test_records_have_captions_splits_and_paths(karpathy_file, tmp_path):
    items = list(read_karpathy(karpathy_file, tmp_path / "images"))
    records = {item.image_id: item for item in items if isinstance(item, Record)}

    assert sorted(records) == ["a.jpg", "b.jpg", "f.jpg", "g.jpg"]
    assert records["a.jpg"] == Record(
        image_id="a.jpg",
        image=os.path.join(tmp_path / "images", "", "a.jpg"),
        captions=("A dog runs.", "A dog."),
        split="train",
        origin="dataset_test.json: images[0]",
    )
    assert records["b.jpg"].captions == ("A cat.",)
    assert records["b.jpg"].split == "val"
    # COCO entries name their sub-folder, and restval joins train.
    assert records["f.jpg"].image == os.path.join(tmp_path / "images", "val2014", "f.jpg")
    assert records["f.jpg"].split == "train"
    assert records["g.jpg"].captions == ("Kept.",)


def test_every_problem_is_reported_with_its_origin(karpathy_file, tmp_path):
    problems = [
        item for item in read_karpathy(karpathy_file, tmp_path) if isinstance(item, Problem)
    ]
    found = {(problem.item, problem.origin): problem.reason for problem in problems}

    assert found[("b.jpg", "dataset_test.json: images[1].sentences[1]")].startswith("empty")
    assert found[("b.jpg", "dataset_test.json: images[1].sentences[2]")].startswith("empty")
    assert (
        found[("c.jpg", "dataset_test.json: images[2]")]
        == "no captions left after dropping empty ones"
    )
    assert found[("d.jpg", "dataset_test.json: images[3]")] == "image has no captions"
    assert (
        "first listed at dataset_test.json: images[0]"
        in found[("a.jpg", "dataset_test.json: images[4]")]
    )
    assert "unknown split 'holdout'" in found[("e.jpg", "dataset_test.json: images[5]")]
    assert "'filename'" in found[("images[7]", "dataset_test.json: images[7]")]
    assert "'raw'" in found[("g.jpg", "dataset_test.json: images[8].sentences[0]")]
    assert "not a JSON object" in found[("images[9]", "dataset_test.json: images[9]")]
    # Also the two empty captions of c.jpg; nothing else.
    assert len(problems) == 11


def test_invalid_json_names_file_and_line(tmp_path):
    path = tmp_path / "dataset_bad.json"
    path.write_text('{"images": [\n  {"filename": "a.jpg"},\n  {"filename": "b.jpg",,}\n]}\n')

    with pytest.raises(SourceFormatError, match=r"dataset_bad\.json:3: invalid JSON") as raised:
        list(read_karpathy(path, tmp_path))
    assert raised.value.line == 3
    assert raised.value.path == str(path)


def test_wrong_top_level_is_a_format_error(tmp_path):
    path = tmp_path / "dataset_list.json"
    path.write_text('[{"filename": "a.jpg"}]')

    with pytest.raises(SourceFormatError, match="not a Karpathy split file"):
        list(read_karpathy(path, tmp_path))


def test_flickr8k_sample(flickr8k_sample_dir):
    items = list(
        read_karpathy(flickr8k_sample_dir / "dataset_flickr8k.json", flickr8k_sample_dir / "images")
    )

    assert all(isinstance(item, Record) for item in items)
    assert len(items) == 875
    assert collections.Counter(item.split for item in items) == {
        "train": 762,
        "val": 57,
        "test": 56,
    }
    assert all(len(item.captions) == 5 for item in items)
    assert all(os.path.isfile(item.image) for item in items)
