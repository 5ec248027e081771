"""Word2Vec training is deterministic, vectors round-trip through files, word2vec files import."""

import gensim
import numpy as np
import pytest

from fusion_tf import text

CAPTIONS = [
    "a dog runs on the beach",
    "a black dog runs in the grass",
    "two children play on the beach",
    "a man rides a bike in the city",
    "a dog jumps over a log",
] * 4


def test_training_is_deterministic_and_sized():
    first = text.train_word_vectors(CAPTIONS, dim=12, seed=3)
    second = text.train_word_vectors(CAPTIONS, dim=12, seed=3)
    other_seed = text.train_word_vectors(CAPTIONS, dim=12, seed=4)
    assert first.words == second.words
    np.testing.assert_array_equal(first.vectors, second.vectors)
    assert not np.array_equal(first.vectors, other_seed.vectors)
    assert first.dim == 12 and "dog" in first.words


def test_dimension_must_be_a_multiple_of_three():
    with pytest.raises(ValueError, match="multiple of 3"):
        text.train_word_vectors(CAPTIONS, dim=10)
    with pytest.raises(ValueError, match="multiple of 3"):
        text.WordVectors(["a"], np.zeros((1, 4)))


def test_quantisation_uses_per_dimension_range():
    vectors = text.WordVectors(
        ["low", "mid", "high"],
        np.array([[-1.0, 0.0, 5.0], [0.0, 0.5, 5.0], [1.0, 1.0, 5.0]]),
    )
    np.testing.assert_array_equal(vectors.quantized(), [[0, 0, 0], [128, 128, 0], [255, 255, 0]])


def test_save_load_round_trip_without_pickle(tmp_path):
    vectors = text.train_word_vectors(CAPTIONS, dim=6, seed=0)
    vectors.save(tmp_path)
    loaded = text.WordVectors.load(tmp_path)
    assert loaded.words == vectors.words
    np.testing.assert_array_equal(loaded.vectors, vectors.vectors)
    np.testing.assert_array_equal(loaded.minimum, vectors.minimum)
    assert loaded.settings["seed"] == 0
    with np.load(tmp_path / "word_vectors.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)


@pytest.mark.parametrize("binary", [True, False])
def test_imports_word2vec_files(tmp_path, binary):
    keyed = gensim.models.KeyedVectors(vector_size=6)
    keyed.add_vectors(
        ["Dog", "dog", "New_York", "cat"],
        np.arange(24, dtype=np.float32).reshape(4, 6),
    )
    path = tmp_path / ("vectors.bin" if binary else "vectors.txt")
    keyed.save_word2vec_format(str(path), binary=binary)
    vectors = text.load_word2vec_format(path)
    # "Dog" comes first, so it gives "dog" its vector; the phrase "New_York" is no caption word.
    assert vectors.words == ("dog", "cat")
    np.testing.assert_allclose(vectors.vectors, [np.arange(6), np.arange(18, 24)])


def test_import_rejects_a_file_that_is_not_word2vec(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("this is not\na word2vec file\n")
    with pytest.raises(ValueError, match="vectors.txt"):
        text.load_word2vec_format(path)


def test_too_few_repeated_words_is_a_clear_error():
    with pytest.raises(ValueError, match="min_count=2"):
        text.train_word_vectors(["every word here is unique"], dim=6)
