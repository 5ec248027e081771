"""The Python and TensorFlow tokenisers agree, on plain, non-ASCII, emoji and malformed input."""

import pytest
import tensorflow as tf

from fusion_tf.text import tokenize, tokenize_tf

CASES = [
    ("A dog's ball!", ["a", "dog", "s", "ball"]),
    ("  Two   men, one boat.  ", ["two", "men", "one", "boat"]),
    ("", []),
    ("... !!! ---", []),
    ("Naïve café in İstanbul", ["naïve", "café", "in", "i̇stanbul"]),
    ("ΣΑΣ Straße", ["σας", "straße"]),
    ("dog🐶running 😀 fast", ["dog", "running", "fast"]),
    ("snake_case and 3rd place", ["snake", "case", "and", "3rd", "place"]),
    ("日本の 犬", ["日本の", "犬"]),
    ("a\0and little", ["a", "and", "little"]),
    ("\0\0Dog\0", ["dog"]),
]


@pytest.mark.parametrize("caption, expected", CASES)
def test_python_tokenizer(caption, expected):
    assert tokenize(caption) == expected


def test_tensorflow_tokenizer_matches_python():
    captions = [caption for caption, _ in CASES]
    tokens = tokenize_tf(tf.constant(captions)).to_list()
    assert [[word.decode("utf-8") for word in row] for row in tokens] == [
        tokenize(caption) for caption in captions
    ]


def test_invalid_utf8_bytes_become_separators_in_both():
    raw = b"red\xffcar"
    assert tokenize(raw) == ["red", "car"]
    assert tokenize_tf(tf.constant([raw])).to_list() == [[b"red", b"car"]]
