"""Bad input: readable images are converted, unreadable ones skipped and listed, too many fail the build."""

import io
import json

import numpy as np
import pytest

import tfrecords_builder
from fusion_tf.data import schema
from fusion_tf.data.records import Record, SourceFormatError
from fusion_tf.data.sources import Source
from tfrecords_builder import BuildConfig, BuildError


def cmyk_jpeg(tiny_data) -> bytes | None:
    """A CMYK JPEG written by Pillow, or None without Pillow (OpenCV cannot write CMYK)."""
    try:
        from PIL import Image
    except ImportError:
        return None
    buffer = io.BytesIO()
    Image.fromarray(tiny_data.pixels(99)).convert("CMYK").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_bad_files_are_skipped_and_listed_and_readable_ones_converted(
    tmp_path, tiny_data, read_split, read_skipped
):
    good_jpeg = tiny_data.jpeg(tiny_data.pixels(50))
    png = tiny_data.png(tiny_data.pixels(51))
    convertible = {
        "gray.png": tiny_data.png(tiny_data.pixels(52, channels=1)),
        "rgba.png": tiny_data.png(tiny_data.pixels(53, channels=4)),
        "deep.png": tiny_data.png(tiny_data.pixels(54).astype(np.uint16) * 257),
    }
    cmyk = cmyk_jpeg(tiny_data)
    if cmyk is not None:
        convertible["cmyk.jpg"] = cmyk
    unusable = {
        "zero.jpg": (b"", "empty file (0 bytes)"),
        "cut.jpg": (good_jpeg[: len(good_jpeg) // 2], "truncated JPEG: no end-of-image marker"),
        "cut.png": (png[:-12], "truncated PNG: no IEND chunk"),
        "text.jpg": (b"this is not an image\n", "not an image OpenCV can decode"),
        "huge.png": (tiny_data.png(np.zeros((90, 90, 3), np.uint8)), "more than max_image_pixels"),
    }
    rows = [(name, "a black cat on the grass", "train") for name in (*convertible, *unusable)]
    rows += [
        ("missing.jpg", "a red dog on the beach", "train"),
        ("train0.jpg", "   ", "train"),  # a whitespace caption of a good image: dropped
        ("nocaption.jpg", "", "train"),  # an image whose only caption is empty
    ]
    files = {name: data for name, (data, _) in unusable.items()}
    files.update(convertible)
    files["nocaption.jpg"] = good_jpeg
    raw = tiny_data.dataset(
        counts={"train": 20, "val": 2, "test": 2},
        files=files,
        rows=rows,
        extra_lines=["only-one-field"],
    )
    output_dir = tmp_path / "out"
    manifest = tfrecords_builder.build(
        BuildConfig(
            "custom",
            str(output_dir),
            str(raw),
            max_image_pixels=80 * 80,
            max_skipped_fraction=1.0,
            num_workers=2,
        )
    )

    train = {example[schema.IMAGE_ID]: example for example in read_split(output_dir, "train")}
    assert set(convertible) <= set(train)
    assert len(train) == 20 + len(convertible)
    assert train["train0.jpg"][schema.CAPTION_TEXT] == tiny_data.captions(0)
    assert sorted(example[schema.CLASS] for example in train.values()) == list(range(len(train)))

    lines = read_skipped(output_dir)
    by_item = {}
    for line in lines:
        by_item.setdefault(line["item"], []).append(line)
    for name, (_, reason) in unusable.items():
        [line] = by_item[name]
        assert reason in line["reason"]
        assert (line["split"], line["image_skipped"]) == ("train", True)
        assert line["origin"].startswith("captions.csv:")
    [missing] = by_item["missing.jpg"]
    assert missing["reason"] == f"file not found: {raw / 'missing.jpg'}"
    [whitespace] = by_item["train0.jpg"]
    assert "empty or whitespace-only caption" in whitespace["reason"]
    assert (whitespace["split"], whitespace["image_skipped"]) == ("train", False)
    assert all(line["image_skipped"] and line["split"] is None for line in by_item["nocaption.jpg"])
    [malformed] = by_item["only-one-field"]
    assert malformed["split"] is None and "expected 3 fields" in malformed["reason"]
    assert set(by_item) == {
        *unusable,
        "missing.jpg",
        "train0.jpg",
        "nocaption.jpg",
        "only-one-field",
    }
    assert manifest["skipped"]["train"] == len(unusable) + 1
    assert manifest["skipped"]["no_split"] == 2  # the captionless image and the malformed line
    assert manifest["skipped"]["lines"] == len(lines)


def test_repeated_image_ids_keep_the_first(
    tmp_path, tiny_data, monkeypatch, read_split, read_skipped
):
    """The builder drops repeated ids itself, whatever the reader let through."""
    jpeg = tiny_data.jpeg(tiny_data.pixels(0))
    records = [
        Record(f"image{i}", jpeg, tuple(tiny_data.captions(i)), "train", f"list:{i}")
        for i in range(6)
    ]
    records.insert(3, Record("image1", jpeg, ("a red dog",), "test", "list:again"))
    source = Source("custom", "test", {}, {}, read=lambda: iter(records))
    monkeypatch.setattr(tfrecords_builder.builder, "open_source", lambda *args, **options: source)
    output_dir = tmp_path / "out"
    manifest = tfrecords_builder.build(
        BuildConfig("custom", str(output_dir), str(tmp_path), num_workers=1)
    )
    ids = [example[schema.IMAGE_ID] for example in read_split(output_dir, "train")]
    assert ids == [f"image{i}" for i in range(6)]
    assert manifest["splits"]["test"]["images"] == 0
    [line] = read_skipped(output_dir)
    assert line["item"] == "image1" and line["origin"] == "list:again"
    assert "duplicate image id, first seen at list:1 (train)" in line["reason"]
    assert (line["split"], line["image_skipped"]) == ("train", False)


def test_karpathy_repeated_entry_is_listed(tmp_path, tiny_data, read_skipped):
    raw = tmp_path / "flickr"
    (raw / "images").mkdir(parents=True)
    entries = []
    for index in range(4):
        (raw / "images" / f"{index}.jpg").write_bytes(tiny_data.jpeg(tiny_data.pixels(index)))
        sentences = [{"raw": caption} for caption in tiny_data.captions(index)]
        entries.append({"filename": f"{index}.jpg", "split": "train", "sentences": sentences})
    entries.append(dict(entries[0], split="test"))
    (raw / "dataset_flickr8k.json").write_text(json.dumps({"images": entries}))
    output_dir = tmp_path / "out"
    manifest = tfrecords_builder.build(
        BuildConfig("flickr8k", str(output_dir), str(raw), num_workers=1)
    )
    assert manifest["splits"]["train"]["images"] == 4
    [line] = read_skipped(output_dir)
    assert line["item"] == "0.jpg" and "duplicate" in line["reason"]
    assert manifest["skipped"]["train"] == 0


def test_too_many_skipped_images_fail_the_build_naming_split_counts_and_list(
    tmp_path, tiny_data, read_skipped, hold_files
):
    raw = tiny_data.dataset(counts={"train": 6}, rows=[("missing.jpg", "a red cat", "train")])
    output_dir = tmp_path / "out"
    config = BuildConfig(
        "custom", str(output_dir), str(raw), max_skipped_fraction=0.1, num_workers=1
    )
    with pytest.raises(BuildError) as failure:
        tfrecords_builder.build(config)
    message = str(failure.value)
    assert "more than --max_skipped_fraction=0.1" in message
    assert "train: 1 of 7 images (14.3%)" in message
    assert str(output_dir / schema.SKIPPED_FILE) in message
    assert not (output_dir / schema.MANIFEST_FILE).exists()
    assert not tfrecords_builder.is_complete(output_dir)
    assert [line["item"] for line in read_skipped(output_dir)] == ["missing.jpg"]

    # Accepting more skips finishes the build and keeps the shard already written.
    [shard] = output_dir.glob("train-*.tfrecord")
    kept = hold_files([shard])
    manifest = tfrecords_builder.build(
        BuildConfig("custom", str(output_dir), str(raw), max_skipped_fraction=0.2, num_workers=1)
    )
    assert manifest["splits"]["train"]["images"] == 6
    assert kept() == [True]


def test_malformed_lines_beyond_the_fraction_fail_before_any_image_is_read(tmp_path, tiny_data):
    raw = tiny_data.dataset(counts={"train": 5}, extra_lines=["a,b,c,d"])
    output_dir = tmp_path / "out"
    with pytest.raises(BuildError, match=r"without a split: 1 of 6 entries \(16\.7%\)"):
        tfrecords_builder.build(BuildConfig("custom", str(output_dir), str(raw), num_workers=1))
    assert not list(output_dir.glob("*.tfrecord"))


@pytest.mark.parametrize(
    ("row", "extra_line", "expected"),
    [
        (
            ("missing.jpg", "a red cat", "train"),
            None,
            r"captions\.csv:\d+: .*missing\.jpg: file not found",
        ),
        (None, "a,b,c,d", r"captions\.csv:\d+: .*expected 3 fields"),
        (
            ("train0.jpg", " ", "train"),
            None,
            r"captions\.csv:\d+: train0\.jpg: empty or whitespace",
        ),
    ],
)
def test_on_error_fail_stops_at_the_first_problem_naming_it(
    tmp_path, tiny_data, row, extra_line, expected
):
    raw = tiny_data.dataset(
        counts={"train": 3},
        rows=[row] if row else [],
        extra_lines=[extra_line] if extra_line else [],
    )
    config = BuildConfig("custom", str(tmp_path / "out"), str(raw), on_error="fail", num_workers=1)
    with pytest.raises(BuildError, match=expected) as failure:
        tfrecords_builder.build(config)
    assert "--on_error=fail" in str(failure.value)
    assert not (tmp_path / "out" / schema.MANIFEST_FILE).exists()


def test_malformed_index_file_raises_source_format_error_with_its_line(tmp_path, tiny_data):
    raw = tmp_path / "flickr"
    raw.mkdir()
    (raw / "0.jpg").write_bytes(tiny_data.jpeg(tiny_data.pixels(0)))
    (raw / "dataset_flickr8k.json").write_text('{"images": [\n  {"filename": "0.jpg",,}\n]}\n')
    with pytest.raises(SourceFormatError, match=r"dataset_flickr8k\.json:2: invalid JSON"):
        tfrecords_builder.build(BuildConfig("flickr8k", str(tmp_path / "out"), str(raw)))


def test_word_vectors_that_cannot_be_read_are_named(tmp_path, tiny_data):
    raw = tiny_data.dataset(counts={"train": 2})
    (tmp_path / "vectors.txt").write_text("not a word2vec file\n")
    config = BuildConfig(
        "custom", str(tmp_path / "out"), str(raw), word_vectors=str(tmp_path / "vectors.txt")
    )
    with pytest.raises(BuildError, match=r"--word_vectors=.*vectors\.txt"):
        tfrecords_builder.build(config)


def test_records_without_usable_captions_for_word2vec_fail_clearly(tmp_path, tiny_data):
    photo = tiny_data.jpeg(tiny_data.pixels(0))
    raw = tiny_data.dataset(
        counts={}, files={"a.jpg": photo}, rows=[("a.jpg", "unique words", "train")]
    )
    with pytest.raises(BuildError, match="cannot train Word2Vec"):
        tfrecords_builder.build(BuildConfig("custom", str(tmp_path / "out"), str(raw)))
