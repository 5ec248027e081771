"""Word vectors for the text encoder: train with gensim Word2Vec, import word2vec files, save and load.

Vectors are stored with the per-dimension minimum and maximum over the vocabulary, which the
quantisation to 0..255 uses; saving writes plain files (a NumPy ``.npz`` loaded without pickle,
a UTF-8 vocabulary and a JSON of settings), so a vector folder from anyone is safe to load.
"""

import json
import logging
import os
import pathlib
import zlib
from collections.abc import Iterable, Sequence

import numpy as np

from fusion_tf.text.tokenizer import tokenize

DEFAULT_DIM = 24
DEFAULT_MIN_COUNT = 2

_ARRAYS_FILE = "word_vectors.npz"
_VOCABULARY_FILE = "vocabulary.txt"
_SETTINGS_FILE = "word_vectors.json"

# gensim logs every epoch at INFO, which absl entry points print; its warnings still show.
logging.getLogger("gensim").setLevel(logging.WARNING)


def _stable_hash(text: str) -> int:
    # gensim seeds each word's initial vector with hashfxn(word + seed); its default is Python's
    # salted str hash, which changes between processes unless PYTHONHASHSEED is fixed.
    return zlib.crc32(text.encode("utf-8"))


class WordVectors:
    """A vocabulary with one float vector per word and the range used to quantise them.

    Args:
        words: sequence of str. The vocabulary, one entry per row of `vectors`, no duplicates.
        vectors: float array of shape (len(words), dim). `dim` must be a multiple of 3, since
            every three components paint one RGB superpixel.
        minimum: float array of shape (dim,) or None. Per-dimension minimum used for
            quantisation. Defaults to the minimum over `vectors`.
        maximum: float array of shape (dim,) or None. Per-dimension maximum used for
            quantisation. Defaults to the maximum over `vectors`.
        settings: dict or None. How the vectors were made (recorded in manifests). Defaults to {}.
    """

    def __init__(
        self,
        words: Sequence[str],
        vectors: np.ndarray,
        minimum: np.ndarray | None = None,
        maximum: np.ndarray | None = None,
        settings: dict | None = None,
    ):
        vectors = np.asarray(vectors, dtype=np.float32)
        words = tuple(words)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(
                f"vectors must have shape (len(words)={len(words)}, dim), got {vectors.shape}"
            )
        if vectors.shape[0] == 0:
            raise ValueError("the vocabulary is empty: no word vectors to encode captions with")
        if vectors.shape[1] % 3 != 0:
            raise ValueError(
                f"word vector dimension {vectors.shape[1]} is not a multiple of 3: every three "
                "components make one RGB superpixel"
            )
        if len(set(words)) != len(words):
            raise ValueError("the vocabulary has duplicate words")
        self.words = words
        self.vectors = vectors
        self.minimum = vectors.min(axis=0) if minimum is None else np.asarray(minimum, np.float32)
        self.maximum = vectors.max(axis=0) if maximum is None else np.asarray(maximum, np.float32)
        self.settings = dict(settings or {})

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.words)

    def quantized(self) -> np.ndarray:
        """Every word's vector as levels 0..255 (`quantize`): (words, dim) uint8."""
        return self.quantize(self.vectors)

    def quantize(self, rows: np.ndarray) -> np.ndarray:
        """Maps each component to 0..255 by its dimension's minimum and maximum: (..., dim) uint8."""
        span = self.maximum - self.minimum
        # A constant dimension carries no information; it maps to 0 rather than dividing by zero.
        scale = np.where(span > 0, 255.0 / np.where(span > 0, span, 1.0), 0.0)
        levels = np.rint((rows - self.minimum) * scale)
        return np.clip(levels, 0, 255).astype(np.uint8)

    def save(self, directory: str | os.PathLike) -> None:
        """Writes the vectors, range and vocabulary as plain files in `directory`."""
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(
            directory / _ARRAYS_FILE,
            vectors=self.vectors,
            minimum=self.minimum,
            maximum=self.maximum,
        )
        (directory / _VOCABULARY_FILE).write_text("\n".join(self.words) + "\n", encoding="utf-8")
        (directory / _SETTINGS_FILE).write_text(json.dumps(self.settings, indent=2) + "\n")

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "WordVectors":
        """Reads vectors written by `save` (no pickle is ever loaded)."""
        directory = pathlib.Path(directory)
        arrays_path = directory / _ARRAYS_FILE
        if not arrays_path.is_file():
            raise FileNotFoundError(
                f"no word vectors at {arrays_path}: write them with WordVectors.save"
            )
        with np.load(arrays_path, allow_pickle=False) as arrays:
            vectors, minimum, maximum = arrays["vectors"], arrays["minimum"], arrays["maximum"]
        words = (directory / _VOCABULARY_FILE).read_text(encoding="utf-8").split("\n")[:-1]
        settings_path = directory / _SETTINGS_FILE
        settings = json.loads(settings_path.read_text()) if settings_path.is_file() else {}
        return cls(words, vectors, minimum, maximum, settings)


def train_word_vectors(
    captions: Iterable[str],
    dim: int = DEFAULT_DIM,
    seed: int = 0,
    min_count: int = DEFAULT_MIN_COUNT,
    window: int = 5,
    epochs: int = 20,
    skip_gram: bool = True,
) -> WordVectors:
    """Trains Word2Vec on tokenised captions (give it training captions only), deterministically.

    Defaults: 24 dimensions (8 RGB superpixels a word: twice the lab's smaller 12-d setting, which
    leaves too little room for meaning, and still small enough that 36 words fit the canvas);
    words seen fewer than 2 times are left out, since a vector trained on one context is mostly its
    random start; skip-gram, which represents rare caption words better than CBOW on small corpora.
    One worker thread: gensim is only reproducible single-threaded.
    """
    if dim % 3 != 0:
        raise ValueError(
            f"dim={dim} is not a multiple of 3: every three components make one superpixel"
        )
    sentences = [tokens for tokens in map(tokenize, captions) if tokens]
    if not sentences:
        raise ValueError("no words to train word vectors on: every caption is empty")
    # Imported here: loading saved vectors (every builder worker does) needs NumPy only.
    import gensim

    model = gensim.models.Word2Vec(
        vector_size=dim,
        window=window,
        min_count=min_count,
        sg=int(skip_gram),
        epochs=epochs,
        seed=seed,
        workers=1,
        hashfxn=_stable_hash,
    )
    model.build_vocab(sentences)
    # gensim would fail later with "you must first build vocabulary"; say what is really wrong.
    if len(model.wv.index_to_key) == 0:
        raise ValueError(
            f"no word occurs at least min_count={min_count} times in the {len(sentences)} captions"
        )
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    settings = {
        "source": "gensim.Word2Vec",
        "gensim_version": gensim.__version__,
        "dim": dim,
        "seed": seed,
        "min_count": min_count,
        "window": window,
        "epochs": epochs,
        "skip_gram": skip_gram,
        "training_captions": len(sentences),
    }
    return WordVectors(model.wv.index_to_key, model.wv.vectors, settings=settings)


def load_word2vec_format(
    path: str | os.PathLike, binary: bool | None = None, limit: int | None = None
) -> WordVectors:
    """Imports pretrained vectors in word2vec's binary or text format (e.g. 300-d GoogleNews).

    Only entries that the tokeniser could produce are kept (GoogleNews phrases such as "New_York"
    never occur in a tokenised caption); entries equal after lower-casing keep the first one, which
    is the most frequent in word2vec files. `binary` defaults to guessing from the ".bin" suffix.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no word2vec file at {path}")
    if binary is None:
        binary = path.suffix in (".bin", ".gz") and not path.name.endswith(".txt.gz")
    import gensim

    try:
        keyed = gensim.models.KeyedVectors.load_word2vec_format(
            str(path), binary=binary, limit=limit, unicode_errors="replace"
        )
    except (ValueError, EOFError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path} is not a word2vec {'binary' if binary else 'text'} file: {error}"
        ) from error
    words, rows = [], []
    seen = set()
    for row, key in enumerate(keyed.index_to_key):
        tokens = tokenize(key)
        if len(tokens) == 1 and tokens[0] not in seen:
            seen.add(tokens[0])
            words.append(tokens[0])
            rows.append(row)
    settings = {
        "source": f"word2vec {'binary' if binary else 'text'} file",
        "path": str(path),
        "dim": int(keyed.vector_size),
        "entries_in_file": len(keyed.index_to_key),
        "entries_kept": len(words),
    }
    return WordVectors(words, keyed.vectors[rows], settings=settings)
