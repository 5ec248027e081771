"""A FAISS inner-product index over embeddings: exact (flat), HNSW or IVF, with save and load."""

import dataclasses
import json
import os
from pathlib import Path

import faiss
import numpy as np

INDEX_KINDS = ("flat", "hnsw", "ivf")
INDEX_FILE = "index.faiss"
CONFIG_FILE = "index_config.json"
# Exact search multiplies query blocks by gallery blocks with BLAS. FAISS's default blocks of 4096
# queries x 1024 gallery rows make each call too small to run BLAS at speed; 1024 x 16384 blocks
# ran 2-4x faster on a 1M x 128 gallery (experiments/bench/bench_search.py) and still cap one
# block's scores at 64 MiB.
EXACT_SEARCH_QUERY_BLOCK = 1024
EXACT_SEARCH_GALLERY_BLOCK = 16384


@dataclasses.dataclass(frozen=True)
class SearchResults:
    """Top-k results for a batch of queries, best first.

    scores: (num_queries, k) float32 inner products (cosine similarity when normalised).
    indices: (num_queries, k) int64 rows of the index, in the order embeddings were added.
    """

    scores: np.ndarray
    indices: np.ndarray

    def hits(self) -> list[list[tuple[int, float]]]:
        """Per query, (row, score) pairs best first, without FAISS's -1 padding for missing results."""
        return [
            [(int(row), float(score)) for row, score in zip(rows, scores, strict=True) if row >= 0]
            for rows, scores in zip(self.indices, self.scores, strict=True)
        ]


class EmbeddingIndex:
    """Nearest-neighbour search by inner product, exact by default.

    With normalize=True (the default) embeddings and queries are L2-normalised, so the inner
    product is the cosine similarity and the ranking equals the paper's Euclidean nearest
    neighbour on normalised embeddings.

    Args:
        dimension: int. Embedding size. Defaults to 128.
        kind: str. "flat" (faiss.IndexFlatIP, exact), "hnsw" (faiss.IndexHNSWFlat with
            METRIC_INNER_PRODUCT, approximate, no training) or "ivf" (faiss.IndexIVFFlat,
            approximate, trained by k-means on the first embeddings added). Defaults to "flat".
        normalize: bool. L2-normalise everything added or queried. Defaults to True.
        hnsw_neighbors: int. Links per node in the HNSW graph (faiss "M"). Defaults to 32.
        ef_construction: int. HNSW candidate list size while building (faiss "efConstruction").
            Defaults to 200.
        ef_search: int. HNSW candidate list size while searching (faiss "efSearch"); larger is
            slower and more accurate. Can be changed after building. Defaults to 128.
        num_lists: int. IVF k-means cells (faiss "nlist"). Defaults to 1024.
        num_probes: int. IVF cells visited per query (faiss "nprobe"). Can be changed after
            building. Defaults to 16.
    """

    def __init__(
        self,
        dimension: int = 128,
        kind: str = "flat",
        normalize: bool = True,
        hnsw_neighbors: int = 32,
        ef_construction: int = 200,
        ef_search: int = 128,
        num_lists: int = 1024,
        num_probes: int = 16,
    ):
        if kind not in INDEX_KINDS:
            raise ValueError(f"unknown index kind {kind!r}; expected one of {INDEX_KINDS}")
        for name, value in (
            ("dimension", dimension),
            ("hnsw_neighbors", hnsw_neighbors),
            ("ef_construction", ef_construction),
            ("ef_search", ef_search),
            ("num_lists", num_lists),
            ("num_probes", num_probes),
        ):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.dimension = int(dimension)
        self.kind = kind
        self.normalize = bool(normalize)
        self.hnsw_neighbors = int(hnsw_neighbors)
        self.ef_construction = int(ef_construction)
        self.num_lists = int(num_lists)
        self._index = self._new_faiss_index()
        self.ef_search = int(ef_search)
        self.num_probes = int(num_probes)

    def _new_faiss_index(self) -> faiss.Index:
        if self.kind == "flat":
            return faiss.IndexFlatIP(self.dimension)
        if self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(
                self.dimension, self.hnsw_neighbors, faiss.METRIC_INNER_PRODUCT
            )
            index.hnsw.efConstruction = self.ef_construction
            return index
        quantizer = faiss.IndexFlatIP(self.dimension)
        return faiss.IndexIVFFlat(
            quantizer, self.dimension, self.num_lists, faiss.METRIC_INNER_PRODUCT
        )

    @property
    def ef_search(self) -> int:
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._ef_search = int(value)
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = self._ef_search

    @property
    def num_probes(self) -> int:
        return self._num_probes

    @num_probes.setter
    def num_probes(self, value: int) -> None:
        self._num_probes = int(value)
        if self.kind == "ivf":
            self._index.nprobe = self._num_probes

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def _prepare(self, embeddings: np.ndarray, name: str) -> np.ndarray:
        """Checks shape and values; returns a C-contiguous float32 copy, normalised if configured."""
        embeddings = np.asarray(embeddings)
        if embeddings.ndim != 2 or embeddings.shape[1] != self.dimension:
            raise ValueError(
                f"{name} must have shape (count, {self.dimension}), got {embeddings.shape}"
            )
        embeddings = np.array(embeddings, dtype=np.float32, order="C", copy=True)
        finite_rows = np.isfinite(embeddings).all(axis=1)
        if not finite_rows.all():
            raise ValueError(f"{name} row {int(np.argmin(finite_rows))} holds NaN or infinity")
        if self.normalize and len(embeddings):
            norms = np.linalg.norm(embeddings, axis=1)
            if (norms == 0).any():
                raise ValueError(f"{name} row {int(np.argmin(norms))} is all zeros")
            faiss.normalize_L2(embeddings)
        return embeddings

    @property
    def is_trained(self) -> bool:
        return bool(self._index.is_trained)

    def train(self, embeddings: np.ndarray) -> None:
        """Fits the IVF cells by k-means (a no-op for flat and HNSW indexes)."""
        if self.kind != "ivf":
            return
        embeddings = self._prepare(embeddings, "training embeddings")
        if len(embeddings) < self.num_lists:
            raise ValueError(
                f"IVF training needs at least num_lists={self.num_lists} embeddings, "
                f"got {len(embeddings)}; lower num_lists or use kind='flat'"
            )
        self._index.train(embeddings)

    def add(self, embeddings: np.ndarray) -> None:
        """Appends embeddings; their rows continue the numbering of earlier adds.

        An untrained IVF index is first trained on these embeddings.
        """
        if not self.is_trained:
            self.train(embeddings)
        self._index.add(self._prepare(embeddings, "embeddings"))

    def search(self, queries: np.ndarray, k: int = 10) -> SearchResults:
        """The k best rows per query (fewer when the index holds fewer than k items)."""
        queries = self._prepare(queries, "queries")
        k = min(int(k), len(self))
        if k < 1:
            empty = np.empty((len(queries), 0))
            return SearchResults(empty.astype(np.float32), empty.astype(np.int64))
        if self.kind == "flat":
            # Process-wide FAISS settings; set on every search so nothing else can have reset them.
            faiss.cvar.distance_compute_blas_query_bs = EXACT_SEARCH_QUERY_BLOCK
            faiss.cvar.distance_compute_blas_database_bs = EXACT_SEARCH_GALLERY_BLOCK
        scores, indices = self._index.search(queries, k)
        return SearchResults(scores, indices.astype(np.int64, copy=False))

    def config(self) -> dict:
        """The constructor arguments, enough to rebuild an equivalent empty index."""
        return {
            "dimension": self.dimension,
            "kind": self.kind,
            "normalize": self.normalize,
            "hnsw_neighbors": self.hnsw_neighbors,
            "ef_construction": self.ef_construction,
            "ef_search": self.ef_search,
            "num_lists": self.num_lists,
            "num_probes": self.num_probes,
        }

    def save(self, directory: str | os.PathLike) -> Path:
        """Writes index.faiss and index_config.json into directory (created if needed)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(directory / INDEX_FILE))
        (directory / CONFIG_FILE).write_text(json.dumps(self.config(), indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "EmbeddingIndex":
        """Reads an index written by save()."""
        directory = Path(directory)
        for name in (INDEX_FILE, CONFIG_FILE):
            if not (directory / name).is_file():
                raise FileNotFoundError(
                    f"{directory / name} is missing: not a saved EmbeddingIndex"
                )
        index = cls(**json.loads((directory / CONFIG_FILE).read_text()))
        loaded = faiss.read_index(str(directory / INDEX_FILE))
        if loaded.d != index.dimension:
            raise ValueError(
                f"{directory / INDEX_FILE} has dimension {loaded.d}, its config says {index.dimension}"
            )
        index._index = loaded
        # Search parameters are not all serialised by faiss; apply the saved ones again.
        index.ef_search = index.ef_search
        index.num_probes = index.num_probes
        return index
