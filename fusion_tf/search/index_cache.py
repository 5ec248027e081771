"""An EmbeddingIndex cached on disk with a manifest saying which inputs it was built from."""

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fusion_tf.search.embedding_index import EmbeddingIndex

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1
CACHE_DIR_NAME = ".fusion_index"  # hidden, so a gallery's own listing skips it


def cached_or_built_index(
    cache_dir: str | os.PathLike,
    key: dict,
    index: EmbeddingIndex,
    embed: Callable[[], tuple[np.ndarray, dict]],
) -> tuple[EmbeddingIndex, dict, bool]:
    """(index, contents, rebuilt): the cached index built for `key`, else `index` filled now.

    `key` describes the inputs (the index's settings are added to it); `embed()` returns the
    embeddings to add and the JSON-serialisable contents to store beside them (what each row is).
    """
    key = {**key, "index": index.config()}
    cached = load_cached_index(cache_dir, key)
    if cached is not None:
        return cached[0], cached[1], False
    embeddings, contents = embed()
    if len(embeddings):
        index.add(embeddings)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    save_cached_index(cache_dir, index, key, contents)
    return index, contents, True


def load_cached_index(
    cache_dir: str | os.PathLike, key: dict
) -> tuple[EmbeddingIndex, dict] | None:
    """(index, stored contents) when cache_dir holds an index built for exactly `key`, else None.

    `key` describes the inputs (files and their sizes and times, embedder, index settings); any
    difference means the cache is stale. A missing, partial or unreadable cache also gives None.
    """
    manifest_path = Path(cache_dir) / MANIFEST_FILE
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("version") != MANIFEST_VERSION or manifest.get("key") != key:
        return None
    try:
        index = EmbeddingIndex.load(cache_dir)
    except (OSError, RuntimeError, ValueError):
        return None
    return index, manifest["contents"]


def save_cached_index(
    cache_dir: str | os.PathLike, index: EmbeddingIndex, key: dict, contents: dict
) -> None:
    """Writes the index, then the manifest holding `key` and `contents` (JSON-serialisable).

    The old manifest is removed first and the new one lands last by an atomic rename, so an
    interrupted write leaves no manifest and the next load rebuilds instead of trusting it.
    """
    cache_dir = Path(cache_dir)
    manifest_path = cache_dir / MANIFEST_FILE
    manifest_path.unlink(missing_ok=True)
    index.save(cache_dir)
    manifest = {"version": MANIFEST_VERSION, "key": key, "contents": contents}
    partial_path = cache_dir / (MANIFEST_FILE + ".partial")
    partial_path.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(partial_path, manifest_path)
