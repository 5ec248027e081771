"""Tests for the generated shapes data set: determinism, counts, faithful captions, word vectors."""

import collections
import itertools
import time

import cv2
import numpy as np
import pytest

from fusion_tf.data.records import Record
from fusion_tf.data.sources.shapes import (
    ATTRIBUTE_WORDS,
    BACKGROUND_RGB,
    CENTER,
    COLOURS,
    COLUMNS,
    COMPASS,
    ROWS,
    read_shapes,
)
from fusion_tf.text import tokenize, train_word_vectors

CANVAS_CAPACITY = 36  # words that fit the default 256 px caption canvas with 24-d vectors


@pytest.fixture(scope="module")
def default_records():
    start = time.perf_counter()
    records = list(read_shapes())
    return records, time.perf_counter() - start


def _decode(record):
    return cv2.cvtColor(
        cv2.imdecode(np.frombuffer(record.image, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
    )


def test_default_counts_ids_and_images(default_records):
    records, seconds = default_records

    assert all(isinstance(record, Record) for record in records)
    assert collections.Counter(record.split for record in records) == {
        "train": 1000,
        "val": 100,
        "test": 100,
    }
    assert len({record.image_id for record in records}) == 1200
    assert records[0].image_id == "shapes-train-00000"
    assert records[0].origin == "shapes(seed=0): train[0]"
    assert records[0].image[:8] == b"\x89PNG\r\n\x1a\n"
    assert _decode(records[0]).shape == (128, 128, 3)
    # Generous bound for a shared CPU; it takes about half a second on one core.
    assert seconds < 20


def test_same_seed_same_bytes_other_seed_other_scenes():
    first = list(read_shapes(seed=3, num_train=20, num_val=5, num_test=5))

    assert first == list(read_shapes(seed=3, num_train=20, num_val=5, num_test=5))
    other = list(read_shapes(seed=4, num_train=20, num_val=5, num_test=5))
    assert sum(a.image == b.image for a, b in zip(first, other, strict=True)) < 3


def test_split_counts_are_independent():
    small = list(read_shapes(num_train=2, num_val=3, num_test=0))
    large = list(read_shapes(num_train=7, num_val=3, num_test=1))

    assert [r for r in small if r.split == "val"] == [r for r in large if r.split == "val"]
    assert small[:2] == large[:2]


def test_image_size_and_bad_arguments():
    record = next(read_shapes(num_train=1, num_val=0, num_test=0, image_size=64))
    assert _decode(record).shape == (64, 64, 3)

    with pytest.raises(ValueError, match="num_val=-1"):
        list(read_shapes(num_val=-1))
    with pytest.raises(ValueError, match="image_size=16"):
        list(read_shapes(image_size=16))
    with pytest.raises(ValueError, match="seed=-1"):
        list(read_shapes(seed=-1))


def test_captions_are_varied_and_fit_the_canvas(default_records):
    records, _ = default_records
    captions = [caption for record in records for caption in record.captions]

    assert all(len(record.captions) == 5 for record in records)
    assert all(len(set(record.captions)) == 5 for record in records)
    # Repeats come from one-object scenes that happen to be alike.
    assert len(set(captions)) > 0.95 * len(captions)
    lengths = [len(tokenize(caption)) for caption in captions]
    assert max(lengths) <= CANVAS_CAPACITY
    assert min(lengths) >= 4
    # Five wordings: the first words of the captions differ between them.
    assert len({tuple(tokenize(caption)[:2]) for caption in records[0].captions}) >= 4


def _words_of(group, caption):
    return [word for word in tokenize(caption) if word in ATTRIBUTE_WORDS[group]]


def _drawn_shape(mask):
    """Tells the five shapes apart by how much of their bounding box they fill, and its aspect."""
    ys, xs = np.nonzero(mask)
    height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    fill, aspect = mask.sum() / (height * width), width / height
    if fill > 0.9:
        return "square"
    if fill > 0.68:
        return "circle"
    if aspect < 0.88:
        return "diamond"
    return "triangle" if aspect > 1.07 else "cross"


def test_captions_describe_the_image(default_records):
    """In one-object scenes, the colour, shape, size and position named match the drawn pixels."""
    records, _ = default_records
    single = [record for record in records if tokenize(record.captions[4])[:2] == ["one", "shape"]]
    assert 300 < len(single) < 500  # one to three objects, equally likely

    for record in single:
        image = _decode(record).astype(np.int32)
        mask = np.abs(image - np.array(BACKGROUND_RGB)).sum(axis=2) > 60
        ys, xs = np.nonzero(mask)
        mean_colour = image[mask].mean(axis=0)
        drawn_colour = min(COLOURS, key=lambda name: np.abs(mean_colour - COLOURS[name][0]).sum())
        row, column = int(ys.mean() * 3 / image.shape[0]), int(xs.mean() * 3 / image.shape[1])
        drawn_position = {word for word in (ROWS[row], COLUMNS[column]) if word} or {CENTER}
        other_compass_words = set(itertools.chain(*COMPASS)) - {COMPASS[row][column]}
        drawn_size = "big" if mask.sum() > 0.03 * mask.size else "little"
        drawn_shape = _drawn_shape(mask)
        for caption in record.captions:
            words = tokenize(caption)
            assert _words_of("shape", caption) == [drawn_shape], caption
            assert set(_words_of("colour", caption)) <= {drawn_colour}, caption
            assert set(_words_of("size", caption)) <= {drawn_size}, caption
            assert set(_words_of("position", caption)) == drawn_position, caption
            assert not other_compass_words & set(words), caption
        assert any(_words_of("colour", caption) for caption in record.captions)


def test_attribute_words_get_distinguishable_vectors(default_records):
    """Word2Vec on the train captions keeps colours, shapes, sizes and positions apart.

    With plain templates ("a little red circle") every pair scores 0.93 to 0.97; with the
    companion words these settings give at most about 0.35 (colours), 0.6 (shapes), 0.75 (sizes)
    and 0.5 (positions).
    """
    records, _ = default_records
    train_captions = [
        caption for record in records if record.split == "train" for caption in record.captions
    ]
    vectors = train_word_vectors(train_captions, dim=24, seed=0)
    rows = {word: row for row, word in enumerate(vectors.words)}
    unit = vectors.vectors / np.linalg.norm(vectors.vectors, axis=1, keepdims=True)
    thresholds = {"colour": 0.6, "shape": 0.8, "size": 0.85, "position": 0.8}

    for group, words in ATTRIBUTE_WORDS.items():
        for first, second in itertools.combinations(words, 2):
            similarity = float(unit[rows[first]] @ unit[rows[second]])
            assert similarity < thresholds[group], f"{group}: {first} ~ {second} = {similarity:.2f}"
