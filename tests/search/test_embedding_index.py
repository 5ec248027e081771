"""Tests for EmbeddingIndex: exact search equals brute force, HNSW/IVF recall, save and load, bad input."""

import numpy as np
import pytest

from fusion_tf.search.embedding_index import EmbeddingIndex


def _normalized(count, dimension, seed):
    vectors = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _brute_force(gallery, queries, k):
    scores = queries @ gallery.T
    indices = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, indices, axis=1), indices


def _recall(found, exact):
    return np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)])


def test_flat_search_equals_numpy_brute_force():
    gallery, queries = _normalized(3000, 32, 0), _normalized(50, 32, 1)
    index = EmbeddingIndex(dimension=32)
    index.add(gallery[:1000])
    index.add(gallery[1000:])
    results = index.search(queries, k=10)
    scores, indices = _brute_force(gallery, queries, 10)
    np.testing.assert_array_equal(results.indices, indices)
    np.testing.assert_allclose(results.scores, scores, rtol=1e-5, atol=1e-5)
    assert len(index) == 3000


def test_queries_and_gallery_are_normalised():
    gallery, queries = _normalized(500, 16, 2), _normalized(20, 16, 3)
    index = EmbeddingIndex(dimension=16)
    index.add(gallery * np.linspace(0.1, 10, 500, dtype=np.float32)[:, None])
    results = index.search(queries * 5.0, k=5)
    np.testing.assert_array_equal(results.indices, _brute_force(gallery, queries, 5)[1])
    assert np.all(results.scores <= 1.0 + 1e-5)


def test_hnsw_recall_is_high():
    gallery, queries = _normalized(5000, 32, 4), _normalized(100, 32, 5)
    index = EmbeddingIndex(dimension=32, kind="hnsw", ef_search=128)
    index.add(gallery)
    exact = _brute_force(gallery, queries, 10)[1]
    assert _recall(index.search(queries, k=10).indices, exact) >= 0.95
    index.ef_search = 10
    assert index.search(queries, k=10).indices.shape == (100, 10)


def test_ivf_visiting_every_list_is_exact_and_fewer_lists_lose_recall():
    gallery, queries = _normalized(4000, 16, 6), _normalized(100, 16, 7)
    index = EmbeddingIndex(dimension=16, kind="ivf", num_lists=32, num_probes=32)
    index.add(gallery)
    exact = _brute_force(gallery, queries, 10)[1]
    np.testing.assert_array_equal(index.search(queries, k=10).indices, exact)
    index.num_probes = 1
    assert _recall(index.search(queries, k=10).indices, exact) < 0.9


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_save_and_load_give_the_same_results(tmp_path, kind):
    gallery, queries = _normalized(2000, 16, 8), _normalized(30, 16, 9)
    index = EmbeddingIndex(dimension=16, kind=kind, ef_search=40, num_lists=20, num_probes=3)
    index.add(gallery)
    before = index.search(queries, k=7)
    loaded = EmbeddingIndex.load(index.save(tmp_path / "index"))
    after = loaded.search(queries, k=7)
    np.testing.assert_array_equal(after.indices, before.indices)
    np.testing.assert_array_equal(after.scores, before.scores)
    assert loaded.config() == index.config()
    assert len(loaded) == 2000


def test_k_beyond_the_index_size_returns_what_there_is():
    index = EmbeddingIndex(dimension=4)
    assert index.search(np.ones((2, 4)), k=3).indices.shape == (2, 0)
    index.add(np.eye(4)[:2])
    results = index.search(np.ones((1, 4)), k=5)
    assert results.indices.shape == (1, 2)
    assert sorted(row for row, _ in results.hits()[0]) == [0, 1]


def test_bad_input_is_named(tmp_path):
    index = EmbeddingIndex(dimension=4)
    with pytest.raises(ValueError, match=r"embeddings must have shape \(count, 4\)"):
        index.add(np.ones((3, 5)))
    with pytest.raises(ValueError, match="queries row 1 holds NaN"):
        index.search(np.array([[1, 0, 0, 0], [np.nan, 0, 0, 0]]), k=1)
    with pytest.raises(ValueError, match="embeddings row 0 is all zeros"):
        index.add(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="unknown index kind 'lsh'"):
        EmbeddingIndex(kind="lsh")
    with pytest.raises(ValueError, match="at least num_lists=64"):
        EmbeddingIndex(dimension=4, kind="ivf", num_lists=64).add(np.eye(4))
    with pytest.raises(FileNotFoundError, match="not a saved EmbeddingIndex"):
        EmbeddingIndex.load(tmp_path)
