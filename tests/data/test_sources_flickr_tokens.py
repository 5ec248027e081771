"""Tests for the Flickr token file reader, with and without split lists, and against Karpathy."""

import collections
import os

import pytest

from fusion_tf.data.records import Problem, Record, SourceFormatError
from fusion_tf.data.sources.detect import FLICKR8K_SPLIT_LISTS
from fusion_tf.data.sources.flickr_tokens import read_flickr_tokens
from fusion_tf.data.sources.karpathy import read_karpathy

TOKEN_LINES = [
    "a.jpg#1\tA dog runs on grass .",  # line 1: numbered after #0, read first
    "a.jpg#0\tA brown dog .",
    "b.jpg#0\t   ",
    "b.jpg#1\tA cat sleeps .",
    "",
    "c.jpg#0\t ",  # line 6: c.jpg's only caption is blank
    "a.jpg#1\tRepeated key .",
    "d.jpg#0\tListed nowhere .",
]


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "Flickr8k.token.txt"
    path.write_text("\n".join(TOKEN_LINES) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def split_lists(tmp_path):
    contents = {"train": "a.jpg\nc.jpg\n", "val": "b.jpg\n\n", "test": "e.jpg\na.jpg\n"}
    paths = {}
    for split, text in contents.items():
        paths[split] = tmp_path / FLICKR8K_SPLIT_LISTS[split]
        paths[split].write_text(text)
    return paths


def _split(items):
    records = {item.image_id: item for item in items if isinstance(item, Record)}
    problems = {
        (problem.item, problem.origin): problem.reason
        for problem in items
        if isinstance(problem, Problem)
    }
    return records, problems


def test_without_split_lists_every_image_is_train(token_file, tmp_path):
    items = list(read_flickr_tokens(token_file, tmp_path / "images"))
    records, _ = _split(items)

    assert list(records) == ["a.jpg", "b.jpg", "d.jpg"]
    assert records["a.jpg"] == Record(
        image_id="a.jpg",
        image=os.path.join(tmp_path / "images", "a.jpg"),
        captions=("A brown dog .", "A dog runs on grass ."),
        split="train",
        origin="Flickr8k.token.txt:1",
    )
    assert records["b.jpg"].captions == ("A cat sleeps .",)
    assert {record.split for record in records.values()} == {"train"}
    assert [item for item in items if isinstance(item, Problem)] == [
        Problem("a.jpg", "Flickr8k.token.txt:7", "caption a.jpg#1 repeated, first at line 1"),
        Problem("b.jpg", "Flickr8k.token.txt:3", "empty or whitespace-only caption dropped"),
        Problem("c.jpg", "Flickr8k.token.txt:6", "empty or whitespace-only caption dropped"),
        Problem("c.jpg", "Flickr8k.token.txt:6", "no captions left after dropping empty ones"),
    ]


def test_split_lists_assign_splits_and_report_the_rest(token_file, split_lists, tmp_path):
    records, problems = _split(list(read_flickr_tokens(token_file, tmp_path, split_lists)))

    assert {image_id: record.split for image_id, record in records.items()} == {
        "a.jpg": "train",
        "b.jpg": "val",
    }
    assert "image is in no split list" in problems[("d.jpg", "Flickr8k.token.txt:8")]
    assert "Flickr_8k.trainImages.txt" in problems[("d.jpg", "Flickr8k.token.txt:8")]
    assert (
        problems[("e.jpg", "Flickr_8k.testImages.txt:1")]
        == "image has no captions in Flickr8k.token.txt"
    )
    assert problems[("a.jpg", "Flickr_8k.testImages.txt:2")] == (
        "image listed again, first at Flickr_8k.trainImages.txt:1"
    )
    assert (
        problems[("c.jpg", "Flickr8k.token.txt:6")] == "no captions left after dropping empty ones"
    )


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("a.jpg#2 no tab here", "has no tab"),
        ("a.jpg\tno caption number", "expected 'IMAGE#N' before the tab"),
        ("a.jpg#x\tletters for a number", "expected 'IMAGE#N' before the tab"),
        ("#3\tno image name", "expected 'IMAGE#N' before the tab"),
    ],
)
def test_malformed_line_raises_with_its_number(tmp_path, bad_line, message):
    path = tmp_path / "results_20130124.token"
    path.write_text(f"a.jpg#0\tfine .\na.jpg#1\tfine too .\n{bad_line}\n")

    with pytest.raises(SourceFormatError, match=message) as raised:
        list(read_flickr_tokens(path, tmp_path))
    assert raised.value.line == 3
    assert str(raised.value).startswith(f"{path}:3: ")


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "Flickr8k.token.txt"
    path.write_bytes(b"a.jpg#0\tfine .\na.jpg#1\tcaf\xe9 .\n")

    with pytest.raises(SourceFormatError, match="not UTF-8") as raised:
        list(read_flickr_tokens(path, tmp_path))
    assert raised.value.line == 2


def test_token_file_and_karpathy_json_agree_on_the_sample(flickr8k_sample_dir):
    images = flickr8k_sample_dir / "images"
    from_tokens = list(read_flickr_tokens(flickr8k_sample_dir / "Flickr8k.token.txt", images))
    from_json = list(read_karpathy(flickr8k_sample_dir / "dataset_flickr8k.json", images))

    assert all(isinstance(item, Record) for item in from_tokens + from_json)
    assert len(from_tokens) == 875
    assert {r.image_id: (r.image, r.captions) for r in from_tokens} == {
        r.image_id: (r.image, r.captions) for r in from_json
    }
    # The sample ships no split lists, so the token reader puts everything in train.
    assert {record.split for record in from_tokens} == {"train"}


def test_official_split_lists_match_karpathy_splits(flickr8k_trainval_dir):
    split_lists = {
        split: flickr8k_trainval_dir / name
        for split, name in FLICKR8K_SPLIT_LISTS.items()
        if (flickr8k_trainval_dir / name).is_file()
    }
    images = flickr8k_trainval_dir / "images"
    from_tokens = list(
        read_flickr_tokens(flickr8k_trainval_dir / "Flickr8k.token.txt", images, split_lists)
    )
    from_json = list(read_karpathy(flickr8k_trainval_dir / "dataset_flickr8k.json", images))

    assert collections.Counter(item.split for item in from_tokens) == {"train": 6000, "val": 1000}
    assert {r.image_id: (r.captions, r.split) for r in from_tokens} == {
        r.image_id: (r.captions, r.split) for r in from_json
    }
