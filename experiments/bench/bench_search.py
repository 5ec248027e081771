"""Exact FAISS search against a NumPy baseline, then HNSW and IVF recall@10 and speed, on 1M x 128.

    python -m experiments.bench.bench_search
    python -m experiments.bench.bench_search --gallery_size=100000 --num_queries=200  # quick check

Galleries are L2-normalised float32, queries batched. Two kinds: "gaussian" (i.i.d. normal
directions, the hardest case for approximate search because no point has near neighbours) and
"clustered" (points scattered around random cluster centres, closer to trained embeddings where an
image and its captions crowd together). Queries are drawn like the gallery but are not in it.

Exact: queries/second for EmbeddingIndex(kind="flat") (faiss.IndexFlatIP) against a NumPy matrix
product + argpartition over the same gallery (fastest of --repeats interleaved runs each), and
whether both return the same top-k.
Approximate: recall@k against the exact top-k, and milliseconds per query both batched (all
queries in one call, all cores: the throughput figure) and one query per call (latency).
FAISS and OpenBLAS use every core the machine has.
"""

import time

import faiss
import numpy as np
from absl import app, flags

from fusion_tf import machine
from fusion_tf.search.embedding_index import EmbeddingIndex

FLAGS = flags.FLAGS
flags.DEFINE_integer("gallery_size", 1_000_000, "Gallery embeddings.")
flags.DEFINE_integer("num_queries", 1000, "Queries, searched as one batch.")
flags.DEFINE_integer("dimension", 128, "Embedding size.")
flags.DEFINE_integer("k", 10, "Results per query.")
flags.DEFINE_list("datasets", ["gaussian", "clustered"], "Gallery kinds: gaussian, clustered.")
flags.DEFINE_integer("num_clusters", 20_000, "Cluster centres of the clustered gallery.")
flags.DEFINE_float(
    "cluster_spread", 0.6, "Norm of a clustered point's offset from its unit-length centre."
)
flags.DEFINE_integer("numpy_chunk", 100, "Queries per NumPy matrix product.")
flags.DEFINE_integer("repeats", 3, "Timed exact searches per method; the fastest is reported.")
flags.DEFINE_bool("approximate", True, "Also build and sweep HNSW and IVF indexes.")
flags.DEFINE_integer("hnsw_neighbors", 32, "HNSW links per node (faiss M).")
flags.DEFINE_integer("ef_construction", 100, "HNSW build candidate list (faiss efConstruction).")
flags.DEFINE_list(
    "ef_search", ["16", "32", "64", "128", "256", "512", "1024"], "HNSW efSearch values."
)
flags.DEFINE_integer("num_lists", 1024, "IVF cells (faiss nlist).")
flags.DEFINE_list(
    "num_probes", ["8", "16", "32", "64", "128", "256"], "IVF cells visited (faiss nprobe)."
)
flags.DEFINE_integer("latency_queries", 200, "Queries timed one per call for latency.")
flags.DEFINE_float("target_recall", 0.95, "Recall@k an approximate setting must reach.")
flags.DEFINE_float("target_ms", 1.0, "Milliseconds per query it must not exceed (batched).")
flags.DEFINE_integer("seed", 0, "Random seed for galleries and queries.")


def _normalize(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def make_vectors(kind: str, count: int, random: np.random.Generator, centres=None) -> np.ndarray:
    """count normalised vectors: i.i.d. directions, or points around the given unit centres."""
    if kind == "gaussian":
        return _normalize(random.standard_normal((count, FLAGS.dimension), dtype=np.float32))
    offsets = random.standard_normal((count, FLAGS.dimension), dtype=np.float32)
    offsets *= FLAGS.cluster_spread / np.sqrt(FLAGS.dimension)
    offsets += centres[random.integers(0, len(centres), count)]
    return _normalize(offsets)


def numpy_top_k(gallery: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """The baseline: per chunk of queries, one matrix product, argpartition, then sort the k."""
    indices = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), FLAGS.numpy_chunk):
        scores = queries[start : start + FLAGS.numpy_chunk] @ gallery.T
        candidates = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        candidate_scores = np.take_along_axis(scores, candidates, axis=1)
        order = np.argsort(-candidate_scores, axis=1)
        indices[start : start + len(candidates)] = np.take_along_axis(candidates, order, axis=1)
    return indices


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of each query's exact top-k present in its found top-k."""
    return float(
        np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)])
    )


def timed(function):
    """(result, wall-clock seconds)."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def latency_ms(index: EmbeddingIndex, queries: np.ndarray) -> float:
    """Median milliseconds of single-query calls over the first latency_queries queries."""
    times = []
    for query in queries[: FLAGS.latency_queries]:
        _, seconds = timed(lambda query=query: index.search(query[None], FLAGS.k))
        times.append(seconds)
    return 1000 * float(np.median(times))


def sweep(name, index, parameter, values, queries, exact, build_seconds):
    """Prints recall and speed per parameter value; returns rows (value, recall, batched ms, latency ms)."""
    print(f"  {name} (built in {build_seconds:.1f} s)")
    print(
        f"    {parameter:>12} {'recall@' + str(FLAGS.k):>10} {'ms/query batched':>17} {'ms/query single':>16}"
    )
    rows = []
    for value in values:
        setattr(index, parameter, value)
        results, seconds = timed(lambda: index.search(queries, FLAGS.k))
        row = (
            value,
            recall(results.indices, exact),
            1000 * seconds / len(queries),
            latency_ms(index, queries),
        )
        rows.append(row)
        print(f"    {value:>12} {row[1]:>10.4f} {row[2]:>17.3f} {row[3]:>16.3f}")
    meeting = [row for row in rows if row[1] >= FLAGS.target_recall and row[2] <= FLAGS.target_ms]
    if meeting:
        value, found_recall, batched_ms, single_ms = min(meeting, key=lambda row: row[2])
        print(
            f"    target met: {parameter}={value}, recall@{FLAGS.k}={found_recall:.4f}, "
            f"{batched_ms:.3f} ms/query batched ({single_ms:.3f} ms single)"
        )
    else:
        print(
            f"    target (recall@{FLAGS.k} >= {FLAGS.target_recall} at <= {FLAGS.target_ms} ms/query) "
            "not met by these settings"
        )
    return rows


def run(kind: str, random: np.random.Generator) -> None:
    centres = None
    if kind == "clustered":
        centres = _normalize(random.standard_normal((FLAGS.num_clusters, FLAGS.dimension)))
    gallery = make_vectors(kind, FLAGS.gallery_size, random, centres)
    queries = make_vectors(kind, FLAGS.num_queries, random, centres)
    print(
        f"\n{kind} gallery: {FLAGS.gallery_size} x {FLAGS.dimension}, {FLAGS.num_queries} queries, top-{FLAGS.k}"
    )

    index = EmbeddingIndex(dimension=FLAGS.dimension)
    _, add_seconds = timed(lambda: index.add(gallery))
    # Interleaved, so a burst of load from elsewhere does not favour one method.
    numpy_times, faiss_times = [], []
    for _ in range(FLAGS.repeats):
        baseline, seconds = timed(lambda: numpy_top_k(gallery, queries, FLAGS.k))
        numpy_times.append(seconds)
        exact, seconds = timed(lambda: index.search(queries, FLAGS.k).indices)
        faiss_times.append(seconds)
    numpy_seconds, faiss_seconds = min(numpy_times), min(faiss_times)
    print(f"  exact numpy matmul+argpartition: {FLAGS.num_queries / numpy_seconds:10.1f} queries/s")
    print(
        f"  exact faiss IndexFlatIP:         {FLAGS.num_queries / faiss_seconds:10.1f} queries/s "
        f"({numpy_seconds / faiss_seconds:.2f}x numpy; adding took {add_seconds:.1f} s), "
        f"top-{FLAGS.k} agreement with numpy {recall(exact, baseline):.4f}"
    )
    del index
    if not FLAGS.approximate:
        return

    index = EmbeddingIndex(
        dimension=FLAGS.dimension,
        kind="hnsw",
        hnsw_neighbors=FLAGS.hnsw_neighbors,
        ef_construction=FLAGS.ef_construction,
    )
    _, build_seconds = timed(lambda: index.add(gallery))
    name = f"HNSW M={FLAGS.hnsw_neighbors} efConstruction={FLAGS.ef_construction}"
    sweep(
        name, index, "ef_search", [int(v) for v in FLAGS.ef_search], queries, exact, build_seconds
    )
    del index

    index = EmbeddingIndex(dimension=FLAGS.dimension, kind="ivf", num_lists=FLAGS.num_lists)
    _, build_seconds = timed(lambda: index.add(gallery))
    name = f"IVF nlist={FLAGS.num_lists}"
    sweep(
        name, index, "num_probes", [int(v) for v in FLAGS.num_probes], queries, exact, build_seconds
    )


def main(argv):
    del argv
    print(machine.describe())
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads")
    random = np.random.default_rng(FLAGS.seed)
    for kind in FLAGS.datasets:
        if kind not in ("gaussian", "clustered"):
            raise app.UsageError(f"unknown dataset {kind!r}; expected gaussian or clustered")
        run(kind, random)


if __name__ == "__main__":
    app.run(main)
