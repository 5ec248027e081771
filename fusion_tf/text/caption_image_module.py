"""The TensorFlow caption encoder as a trackable module: a vocabulary table and visual-word pixel rows."""

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from fusion_tf.text.layout import TextImageLayout
from fusion_tf.text.tokenizer import tokenize_tf


class CaptionImageModule(tf.Module):
    """The TensorFlow encoder as a trackable module, so a SavedModel keeps its table and tiles.

    Args:
        words: sequence of str. Vocabulary, in the order of `word_tiles`.
        word_tiles: uint8 array (words, word_height, word_width, 3). Visual words.
        layout: TextImageLayout. Canvas geometry.
    """

    def __init__(self, words: Sequence[str], word_tiles: np.ndarray, layout: TextImageLayout):
        super().__init__(name="caption_image_encoder")
        self.layout = layout
        self.vocabulary_size = len(words)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(list(words), tf.string), tf.range(len(words), dtype=tf.int64)
            ),
            default_value=-1,
        )
        # Each tile carries its separator on the right and bottom, and is stored as pixel rows:
        # row (word * cell_height + i) is the i-th pixel row of that word's cell. One extra
        # all-black row serves empty slots and the canvas rows below the grid, so a single gather
        # writes the canvas row by row, with no transpose.
        cells = np.zeros((len(words), layout.cell_height, layout.cell_width, 3), dtype=np.uint8)
        cells[:, : layout.word_height, : layout.word_width] = word_tiles
        pixel_rows = np.concatenate(
            [
                cells.reshape(-1, layout.cell_width * 3),
                np.zeros((1, layout.cell_width * 3), np.uint8),
            ]
        )
        self.pixel_rows = tf.Variable(pixel_rows, trainable=False, name="visual_word_pixel_rows")
        # For each canvas row y: the grid row it falls in and the pixel row within that cell.
        canvas_rows = np.arange(layout.canvas_size)
        inside = canvas_rows < layout.rows * layout.cell_height
        self._grid_row = tf.constant(np.where(inside, canvas_rows // layout.cell_height, 0))
        self._row_in_cell = tf.constant(np.where(inside, canvas_rows % layout.cell_height, -1))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def encode_with_statistics(self, captions: tf.Tensor) -> dict[str, tf.Tensor]:
        """Encodes a batch of captions; also returns per-caption word counts."""
        layout = self.layout
        tokens = tokenize_tf(captions)
        ids = tf.ragged.map_flat_values(self.table.lookup, tokens)
        known = tf.ragged.boolean_mask(ids, ids >= 0)
        blank = self.vocabulary_size * layout.cell_height  # index of the all-black pixel row
        slots = known.to_tensor(default_value=-1, shape=[None, layout.capacity])
        slots = tf.reshape(slots, [-1, layout.rows, layout.columns])
        # (batch, canvas rows, columns): which pixel row of which word each cell row shows.
        slot_per_row = tf.gather(slots, self._grid_row, axis=1)
        row_index = slot_per_row * layout.cell_height + self._row_in_cell[:, tf.newaxis]
        row_index = tf.where(
            (slot_per_row < 0) | (self._row_in_cell[:, tf.newaxis] < 0),
            tf.constant(blank, tf.int64),
            row_index,
        )
        size = layout.canvas_size
        width = layout.columns * layout.cell_width
        # Canvas rows as flat byte rows; widening by concatenation copies whole rows with
        # memcpy, several times faster than tf.pad's element-wise kernel.
        image = tf.reshape(tf.gather(self.pixel_rows, row_index), [-1, size, width * 3])
        if width < size:
            black = tf.zeros([tf.shape(image)[0], size, (size - width) * 3], tf.uint8)
            image = tf.concat([image, black], axis=2)
        elif width > size:  # only the last word's trailing separator lies past the edge
            image = image[:, :, : size * 3]
        image = tf.reshape(image, [-1, size, size, 3])
        word_count = tf.cast(tokens.row_lengths(), tf.int32)
        known_count = tf.cast(known.row_lengths(), tf.int32)
        placed = tf.minimum(known_count, layout.capacity)
        return {
            "images": tf.ensure_shape(image, [None, size, size, 3]),
            "words": word_count,
            "out_of_vocabulary_words": word_count - known_count,
            "dropped_words": known_count - placed,
            "empty": placed == 0,
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, captions: tf.Tensor) -> tf.Tensor:
        return self.encode_with_statistics(captions)["images"]
