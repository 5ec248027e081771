"""Captions to encoded text images: one encoding, implemented in NumPy and as TensorFlow ops.

Both implementations paint the same precomputed visual-word tiles (quantised vectors expanded to
superpixels) at the same grid positions, so their pixels are identical; tests check it on every
caption of the shared Flickr8k sample. TensorFlow is imported only when the TensorFlow encoder is
first asked for, so the builder's NumPy-only workers never load it.
"""

import dataclasses
import json
import os
import pathlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from fusion_tf.text.layout import TextImageLayout
from fusion_tf.text.tokenizer import tokenize
from fusion_tf.text.word_vectors import WordVectors

if TYPE_CHECKING:
    import tensorflow as tf

    from fusion_tf.text.caption_image_module import CaptionImageModule

_LAYOUT_FILE = "encoder.json"

# An encoder fitted to captions holds this percentile caption whole: the longest 1% may lose words.
FITTED_PERCENTILE = 99


@dataclasses.dataclass
class EncodingStatistics:
    """Counts of what encoding left out, so that nothing is dropped silently."""

    captions: int = 0
    words: int = 0
    out_of_vocabulary_words: int = 0
    dropped_words: int = 0
    empty_captions: int = 0

    def add(self, other: "EncodingStatistics") -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _word_tiles(vectors: WordVectors, layout: TextImageLayout) -> np.ndarray:
    """Each vocabulary word's visual word: (words, word_height, word_width, 3) uint8."""
    quantized = vectors.quantized().reshape(len(vectors), layout.superpixels, 3)
    padded_superpixels = layout.superpixel_rows * layout.superpixels_per_row
    grid = np.zeros((len(vectors), padded_superpixels, 3), np.uint8)
    grid[:, : layout.superpixels] = quantized
    grid = grid.reshape(len(vectors), layout.superpixel_rows, layout.superpixels_per_row, 3)
    grid = np.repeat(grid, layout.superpixel_size, axis=1)
    return np.repeat(grid, layout.superpixel_size, axis=2)


class TextImageEncoder:
    """Encodes captions as images of their words' quantised vectors (NumPy and TensorFlow).

    Args:
        vectors: WordVectors. Vocabulary and vectors, with their quantisation range.
        **layout_options: canvas_size, superpixel_size, superpixels_per_row, separator
            (see TextImageLayout for their meaning and defaults).
    """

    def __init__(self, vectors: WordVectors, **layout_options):
        self.vectors = vectors
        self.layout = TextImageLayout(dim=vectors.dim, **layout_options)
        self.statistics = EncodingStatistics()
        self._tiles = _word_tiles(vectors, self.layout)
        # A sorted vocabulary turns word lookup into one vectorised binary search.
        words = np.array(vectors.words)
        self._lookup_order = np.argsort(words, kind="stable")
        self._sorted_words = words[self._lookup_order]
        self._tf_module = None

    @classmethod
    def fitted(cls, vectors: WordVectors, captions: Sequence[str]) -> "TextImageEncoder":
        """The encoder whose canvas holds the FITTED_PERCENTILE-th percentile caption of these
        (training) captions, counted in words of the vocabulary: the default 13 px superpixels
        where they do, as for 24-d vectors on Flickr and COCO captions, else the largest that do
        (TextImageLayout.fitting)."""
        vocabulary = set(vectors.words)
        words = [sum(word in vocabulary for word in tokenize(caption)) for caption in captions]
        longest = int(np.ceil(np.percentile(words, FITTED_PERCENTILE))) if words else 0
        layout = TextImageLayout.fitting(vectors.dim, longest)
        return cls(vectors, superpixel_size=layout.superpixel_size)

    @property
    def canvas_size(self) -> int:
        return self.layout.canvas_size

    @property
    def capacity(self) -> int:
        return self.layout.capacity

    def word_ids(self, words: Sequence[str]) -> np.ndarray:
        """Vocabulary index of each word, -1 for a word out of the vocabulary."""
        if len(words) == 0:
            return np.zeros(0, np.int64)
        words = np.array(words)
        positions = np.searchsorted(self._sorted_words, words)
        positions = np.minimum(positions, len(self._sorted_words) - 1)
        found = self._sorted_words[positions] == words
        return np.where(found, self._lookup_order[positions], -1)

    def encode(
        self, captions: Sequence[str], return_statistics: bool = False
    ) -> np.ndarray | tuple[np.ndarray, EncodingStatistics]:
        """Encodes captions: (n, canvas, canvas, 3) uint8; counts are added to `self.statistics`."""
        layout = self.layout
        token_lists = [tokenize(caption) for caption in captions]
        count = len(token_lists)
        words_per_caption = np.fromiter(map(len, token_lists), dtype=np.int64, count=count)
        ids = self.word_ids([word for tokens in token_lists for word in tokens])
        caption_of_word = np.repeat(np.arange(count), words_per_caption)

        known = ids >= 0
        ids, caption_of_word = ids[known], caption_of_word[known]
        known_per_caption = np.bincount(caption_of_word, minlength=count)
        first_of_caption = np.cumsum(known_per_caption) - known_per_caption
        slot = np.arange(len(ids)) - np.repeat(first_of_caption, known_per_caption)
        fits = slot < layout.capacity
        ids, caption_of_word, slot = ids[fits], caption_of_word[fits], slot[fits]

        size = layout.canvas_size
        images = np.zeros((count, size, size, 3), np.uint8)
        # A writable strided view of the canvases as a grid of word cells: assigning the tiles
        # writes only the words' pixels, never the black background.
        byte = images.strides[-1]
        cells = np.lib.stride_tricks.as_strided(
            images,
            shape=(count, layout.rows, layout.columns, layout.word_height, layout.word_width, 3),
            strides=(
                images.strides[0],
                layout.cell_height * images.strides[1],
                layout.cell_width * images.strides[2],
                images.strides[1],
                images.strides[2],
                byte,
            ),
            writeable=True,
        )
        cells[caption_of_word, slot // layout.columns, slot % layout.columns] = self._tiles[ids]

        placed = np.minimum(known_per_caption, layout.capacity)
        statistics = EncodingStatistics(
            captions=count,
            words=int(words_per_caption.sum()),
            out_of_vocabulary_words=int(words_per_caption.sum() - known_per_caption.sum()),
            dropped_words=int(known_per_caption.sum() - placed.sum()),
            empty_captions=int(np.count_nonzero(placed == 0)),
        )
        self.statistics.add(statistics)
        return (images, statistics) if return_statistics else images

    @property
    def tf_module(self) -> "CaptionImageModule":
        """The TensorFlow encoder, built once; attach it to a SavedModel to serve raw captions."""
        if self._tf_module is None:
            import tensorflow as tf

            from fusion_tf.text.caption_image_module import CaptionImageModule

            # The first call may come while tf.data traces a map function; the table and
            # tiles must live outside that graph.
            with tf.init_scope():
                self._tf_module = CaptionImageModule(self.vectors.words, self._tiles, self.layout)
        return self._tf_module

    def encode_tf(self, captions: "tf.Tensor") -> "tf.Tensor":
        """Encodes a 1-D string tensor with TensorFlow ops (usable in tf.data and SavedModels)."""
        import tensorflow as tf

        captions = tf.convert_to_tensor(captions, tf.string)
        if captions.shape.rank == 0:
            return self.tf_module(captions[tf.newaxis])[0]
        return self.tf_module(captions)

    def save(self, directory: str | os.PathLike) -> None:
        """Writes the word vectors and the layout, which `load` reads back."""
        directory = pathlib.Path(directory)
        self.vectors.save(directory)
        layout = self.layout.to_config()
        layout.pop("dim")
        (directory / _LAYOUT_FILE).write_text(json.dumps(layout, indent=2) + "\n")

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "TextImageEncoder":
        """Reads the word vectors and layout that `save` wrote."""
        return cls(WordVectors.load(directory), **_layout_options(directory))

    @staticmethod
    def load_layout(directory: str | os.PathLike) -> TextImageLayout:
        """The layout of a saved encoder, without painting its vocabulary's visual words."""
        return TextImageLayout(dim=WordVectors.load(directory).dim, **_layout_options(directory))


def _layout_options(directory: str | os.PathLike) -> dict:
    """The layout settings `TextImageEncoder.save` wrote beside the word vectors."""
    layout_path = pathlib.Path(directory) / _LAYOUT_FILE
    if not layout_path.is_file():
        raise FileNotFoundError(
            f"no encoder layout at {layout_path}: write it with TextImageEncoder.save"
        )
    return json.loads(layout_path.read_text())
