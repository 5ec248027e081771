"""Tests for the custom CSV / JSON Lines reader: grouping, splits, hash split and problems."""

import collections
import json
import os

import pytest

from fusion_tf.data.records import Problem, Record, SourceFormatError
from fusion_tf.data.sources.custom import hash_split, read_custom


def _read(path, **options):
    items = list(read_custom(path, **options))
    records = {item.image_id: item for item in items if isinstance(item, Record)}
    problems = [item for item in items if isinstance(item, Problem)]
    return records, problems


CSV_TEXT = (
    "Image,Caption,Split\n"  # 1
    "photos/a.jpg,A dog runs.,train\n"  # 2
    './photos/a.jpg,"A dog, running.",train\n'  # 3: same image, written differently
    'b.jpg,"A cat\non two lines.",val\n'  # 4-5: a quoted caption over two lines
    "b.jpg,   ,val\n"  # 6: blank caption
    "c.jpg,too,many,fields\n"  # 7
    "d.jpg,A bird.,holdout\n"  # 8: unknown split
    ",No image.,train\n"  # 9
    "b.jpg,A cat again.,test\n"  # 10: conflicting split
    "\n"  # 11: blank line, ignored
    "e.jpg,\t,train\n"  # 12: e.jpg's only caption is blank
    "f.jpg,A fish.,TEST\n"  # 13
)


def test_csv_groups_captions_by_image(tmp_path):
    path = tmp_path / "captions.csv"
    path.write_text(CSV_TEXT)
    records, _ = _read(path)

    assert list(records) == ["photos/a.jpg", "b.jpg", "f.jpg"]
    assert records["photos/a.jpg"] == Record(
        image_id="photos/a.jpg",
        image=os.path.join(tmp_path, "photos/a.jpg"),
        captions=("A dog runs.", "A dog, running."),
        split="train",
        origin="captions.csv:2",
    )
    assert records["b.jpg"].captions == ("A cat\non two lines.",)
    assert records["b.jpg"].split == "val"
    assert records["f.jpg"].split == "test"


def test_csv_problems_name_their_lines(tmp_path):
    path = tmp_path / "captions.csv"
    path.write_text(CSV_TEXT)
    _, problems = _read(path)
    found = {problem.origin: problem for problem in problems}

    assert [problem.origin for problem in problems] == [
        "captions.csv:7",
        "captions.csv:8",
        "captions.csv:9",
        "captions.csv:10",
        "captions.csv:6",
        "captions.csv:12",
        "captions.csv:12",
    ]
    assert found["captions.csv:7"].reason == "expected 3 fields (image, caption, split), got 4"
    assert "unknown split 'holdout'" in found["captions.csv:8"].reason
    assert found["captions.csv:9"].reason == "row has no image path"
    assert found["captions.csv:10"].item == "b.jpg"
    assert "differs from 'val' given at captions.csv:4" in found["captions.csv:10"].reason
    assert found["captions.csv:6"].reason == "empty or whitespace-only caption dropped"
    assert problems[-1] == Problem(
        "e.jpg", "captions.csv:12", "no captions left after dropping empty ones"
    )


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_csv_delimiter_is_found_from_the_header(tmp_path, delimiter):
    path = tmp_path / "captions.tsv"
    path.write_text(f"caption{delimiter}image\nA dog, running.{delimiter}a.jpg\n")
    records, problems = _read(path)

    assert problems == []
    assert records["a.jpg"].captions == ("A dog, running.",)


def test_explicit_delimiter_is_used(tmp_path):
    path = tmp_path / "captions.csv"
    path.write_text("image;caption\na.jpg;A dog.\n")

    assert _read(path, delimiter=";")[0]["a.jpg"].captions == ("A dog.",)
    with pytest.raises(SourceFormatError, match="captions.csv:1: the header row must name"):
        _read(path, delimiter=",")
    with pytest.raises(ValueError, match="delimiter must be one character"):
        _read(path, delimiter=";;")


def test_unreadable_row_is_a_problem_and_reading_goes_on(tmp_path):
    path = tmp_path / "captions.csv"
    path.write_text("image,caption\na.jpg,A dog.\nb.jpg," + "x" * 200_000 + "\nc.jpg,A cow.\n")
    records, problems = _read(path)

    assert list(records) == ["a.jpg", "c.jpg"]
    assert [(problem.origin, problem.reason) for problem in problems] == [
        ("captions.csv:3", "unreadable CSV row: field larger than field limit (131072)")
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "path,text\na.jpg,A dog.\n", "image\na.jpg\n"])
def test_unreadable_header_is_a_format_error(tmp_path, text):
    path = tmp_path / "captions.csv"
    path.write_text(text)

    with pytest.raises(
        SourceFormatError, match="the header row must name the columns 'image' and 'caption'"
    ):
        _read(path)


def test_json_lines(tmp_path):
    lines = [
        json.dumps({"image": "a.jpg", "caption": "A dog.", "split": "validation"}),
        json.dumps({"image": "a.jpg", "caption": "A brown dog."}),  # no split: hash split, train
        "{not json",
        "",
        json.dumps(["a list"]),
        json.dumps({"image": "b.jpg", "caption": 7}),
        json.dumps({"image": "/abs/c.jpg", "caption": "A cow.", "split": "dev"}),
        json.dumps({"caption": "No image."}),
        json.dumps({"image": "d.jpg"}),
        json.dumps({"image": "18.jpg", "caption": "A hen.", "split": None}),
    ]
    path = tmp_path / "captions.jsonl"
    path.write_text("\n".join(lines) + "\n")
    records, problems = _read(path)
    opted_in, _ = _read(path, allow_outside_folder=True)

    assert "/abs/c.jpg" not in records
    assert opted_in["/abs/c.jpg"].image == "/abs/c.jpg"
    assert opted_in["/abs/c.jpg"].split == "val"
    assert records["a.jpg"].split == "val"
    assert records["a.jpg"].captions == ("A dog.",)
    assert records["18.jpg"].split == hash_split("18.jpg") == "val"
    origins = collections.defaultdict(list)
    for problem in problems:
        origins[problem.origin].append(problem.reason)
    assert origins["captions.jsonl:2"] == [
        "split 'train' differs from 'val' given at captions.jsonl:1; row dropped"
    ]
    assert origins["captions.jsonl:3"][0].startswith("invalid JSON at column 2")
    assert origins["captions.jsonl:5"] == ["line is not a JSON object"]
    assert origins["captions.jsonl:6"] == ["'caption' is not a string: 7"]
    assert origins["captions.jsonl:7"] == [
        f"outside the caption file's folder {tmp_path}: not read "
        "(pass --allow_outside_data_dir to read it)"
    ]
    assert origins["captions.jsonl:8"] == ["row has no image path"]
    assert origins["captions.jsonl:9"] == [
        "empty or whitespace-only caption dropped",
        "no captions left after dropping empty ones",
    ]
    assert len(problems) == 8


def test_hash_split_is_stable_and_close_to_90_5_5(tmp_path):
    image_ids = [f"images/{index:05d}.jpg" for index in range(4000)]
    splits = [hash_split(image_id) for image_id in image_ids]
    counts = collections.Counter(splits)

    assert counts["train"] / 4000 == pytest.approx(0.90, abs=0.02)
    assert counts["val"] / 4000 == pytest.approx(0.05, abs=0.015)
    assert counts["test"] / 4000 == pytest.approx(0.05, abs=0.015)
    # Fixed values: the rule must not change between releases, or data sets would be re-split.
    assert [hash_split(f"{index}.jpg") for index in range(12, 20)] == [
        "train", "train", "test", "train", "train", "train", "val", "train",
    ]  # fmt: skip

    # Without a split column the split depends on the image alone, not on row order or neighbours.
    forward = tmp_path / "forward.csv"
    forward.write_text("image,caption\n" + "".join(f"{i},c {i}\n" for i in image_ids[:200]))
    backward = tmp_path / "backward.csv"
    backward.write_text(
        "image,caption\n" + "".join(f"{i},c {i}\n" for i in reversed(image_ids[:300]))
    )
    forward_splits = {i: r.split for i, r in _read(forward)[0].items()}
    backward_splits = {i: r.split for i, r in _read(backward)[0].items()}
    assert forward_splits == {i: backward_splits[i] for i in forward_splits}
    assert forward_splits == dict(zip(image_ids[:200], splits[:200], strict=True))


def test_unknown_file_type(tmp_path):
    path = tmp_path / "captions.txt"
    path.write_text("image,caption\n")

    with pytest.raises(ValueError, match="unknown custom file type '.txt'"):
        list(read_custom(path))
