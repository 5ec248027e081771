"""Encoded caption canvases resized through their blocks of one colour: the antialiased resize's
result for a fraction of its cost.

An encoded caption is made of runs of pixels that share one colour along each axis (superpixels,
the separators between visual words, the black margin), at places its layout fixes. So a canvas
is `expand_rows @ grid @ expand_columns.T`, where the grid holds one pixel of each run and the
expansions are 0/1 matrices; the antialiased bilinear resize is a matrix on each side as well
(`resize_matrix`), and a crop is a slice of the expansion's rows. Resizing, whole or cropped,
becomes two small products with the grid (a 256 canvas of 24-d words is a 28 x 24 grid), where
resizing the pixels costs most of the training input pipeline's time (BENCHMARKS.md).
"""

import numpy as np
import tensorflow as tf

from fusion_tf.text.layout import TextImageLayout


def resize_matrix(source: int, target: int) -> np.ndarray:
    """(target, source) float32: `pipeline.resize` along one axis, as a matrix.

    The antialiased bilinear resize is linear and separable, so resizing the basis images gives
    its weights, and `matrix @ image @ matrix.T` resizes a square image the same way.
    """
    basis = tf.eye(source)[:, :, tf.newaxis, tf.newaxis]  # `source` images of source x 1 pixels
    # The same method and antialiasing as pipeline.resize, along the height axis only.
    resized = tf.image.resize(basis, [target, 1], antialias=True)
    return resized.numpy()[:, :, 0, 0].T.astype(np.float32)


def run_starts(canvas_size: int, cell: int, superpixels: int, superpixel_size: int) -> np.ndarray:
    """First pixel of each run along one axis over which every canvas of a layout is constant.

    Visual words start every `cell` pixels and hold `superpixels` superpixels along this axis;
    what lies between and after them is black, one run per gap.
    """
    starts = {0}
    for origin in range(0, canvas_size, cell):
        starts.update(origin + step * superpixel_size for step in range(superpixels + 1))
    return np.array(sorted(start for start in starts if start < canvas_size), np.int32)


def expansion(starts: np.ndarray, canvas_size: int) -> np.ndarray:
    """(canvas_size, runs) float32 of 0 and 1: which run each pixel along the axis belongs to."""
    run_of_pixel = np.searchsorted(starts, np.arange(canvas_size), side="right") - 1
    return np.eye(len(starts), dtype=np.float32)[run_of_pixel]


class CanvasResizer:
    """Resizes encoded caption canvases of one layout, whole or cropped, to the model's input.

    Gives what `pipeline.resize` gives on the pixels (to float rounding), and crops where
    `tf.image.stateless_random_crop` would with the same seed, so training draws the same views.

    Args:
        layout: TextImageLayout. The layout the canvases were painted with.
        image_size: int. Side of the resized square.
        crop_size: int. Side of the random crops, on the canvas. Defaults to the canvas (none).
    """

    def __init__(self, layout: TextImageLayout, image_size: int, crop_size: int | None = None):
        canvas, crop_size = layout.canvas_size, crop_size or layout.canvas_size
        if not 0 < crop_size <= canvas:
            raise ValueError(f"crop_size={crop_size} must lie in 1..{canvas}, the canvas side")
        self.canvas_size, self.crop_size = canvas, crop_size
        # NumPy, not tensors: each graph that resizes makes its own constants while tracing, where
        # a captured tensor would become an input of exported functions (tf2onnx's, for one).
        self.row_starts = run_starts(
            canvas, layout.cell_height, layout.superpixel_rows, layout.superpixel_size
        )
        self.column_starts = run_starts(
            canvas, layout.cell_width, layout.superpixels_per_row, layout.superpixel_size
        )
        rows = expansion(self.row_starts, canvas)
        columns = expansion(self.column_starts, canvas)
        whole, cropped = resize_matrix(canvas, image_size), resize_matrix(crop_size, image_size)
        self.whole_rows, self.whole_columns = whole @ rows, whole @ columns
        # One matrix per crop offset: (offsets, image_size, runs), gathered by the drawn offset.
        offsets = range(canvas - crop_size + 1)
        self.cropped_rows = np.stack([cropped @ rows[at : at + crop_size] for at in offsets])
        self.cropped_columns = np.stack([cropped @ columns[at : at + crop_size] for at in offsets])

    def grid(self, canvases: tf.Tensor) -> tf.Tensor:
        """(n, canvas, canvas, 3) pixels to (n, row runs, column runs, 3) float32: one pixel a run."""
        side = canvases.shape[1:3]
        message = f"caption canvases must be {self.canvas_size} px square, as the encoder's layout"
        if side.is_fully_defined():
            if side != [self.canvas_size] * 2:
                raise ValueError(f"{message}, not {side[0]} x {side[1]}")
        else:
            # Ordered before the gathers, whose own error would only name an index.
            check = tf.debugging.assert_equal(
                tf.shape(canvases)[1:3], self.canvas_size, message=message
            )
            with tf.control_dependencies([check]):
                canvases = tf.identity(canvases)
        rows = tf.gather(canvases, self.row_starts, axis=1)
        return tf.cast(tf.gather(rows, self.column_starts, axis=2), tf.float32)

    def whole(self, canvases: tf.Tensor) -> tf.Tensor:
        """(n, canvas, canvas, 3) pixels to (n, size, size, 3) float32: `pipeline.resize`'s."""
        return self.resize(self.grid(canvases))

    def resize(self, grid: tf.Tensor, seed: tf.Tensor | None = None) -> tf.Tensor:
        """A `grid` of n canvases, whole or, given `seed` (shape [2]), one crop for all n, resized:
        `pipeline.resize(canvases)` or
        `pipeline.resize(tf.image.stateless_random_crop(canvases, [n, crop, crop, 3], seed))`.

        Taking the grid lets one image's whole and cropped views share a single gather."""
        if seed is None:
            return _resize_grid(grid, self.whole_rows, self.whole_columns)
        # stateless_random_crop's own draw: an int32 offset per axis, modulo the room there.
        room = self.canvas_size - self.crop_size + 1
        draw = tf.random.stateless_uniform([4], seed, maxval=tf.int32.max, dtype=tf.int32)
        return _resize_grid(
            grid,
            tf.gather(self.cropped_rows, draw[1] % room),
            tf.gather(self.cropped_columns, draw[2] % room),
        )


def _resize_grid(grid: tf.Tensor, rows: tf.Tensor, columns: tf.Tensor) -> tf.Tensor:
    """`rows @ grid @ columns.T` for each canvas and channel: (n, size, size, 3) float32.

    Written as two matrix products over reshaped grids, which keep the channels last without
    a transpose (an einsum transposes its 150k-value output, doubling the cost).
    """
    rows, columns = tf.convert_to_tensor(rows), tf.convert_to_tensor(columns)
    count, (row_runs, column_runs), size = tf.shape(grid)[0], grid.shape[1:3], rows.shape[0]
    # Columns first: (n * row runs, column runs, 3) -> (n * row runs, size, 3).
    wide = tf.matmul(columns, tf.reshape(grid, [count * row_runs, column_runs, 3]))
    # Then rows: (n, row runs, size * 3) -> (n, size, size * 3).
    resized = tf.matmul(rows, tf.reshape(wide, [count, row_runs, size * 3]))
    return tf.reshape(resized, [count, size, size, 3])
