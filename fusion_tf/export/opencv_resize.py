"""OpenCV's 8-bit INTER_AREA and INTER_LINEAR resizing as TensorFlow ops.

The builder resizes photos with `cv2.resize`; a SavedModel cannot call OpenCV, and
`tf.image.resize` rounds differently (bilinear: about 12% of the values of an upscaled photo
differ by one level; area: a few values per million), so this module re-creates OpenCV's
arithmetic; with opencv-python 5.0 and 5.1 on x86 it gives the same pixels:

* INTER_AREA, shrinking by a non-integer factor: each output pixel is the float32 sum of its source
  pixels weighted by their overlap, accumulated in OpenCV's order (row taps, then column taps) and
  rounded half to even.
* INTER_AREA, integer factors in both directions: integer block sums, `(sum + 2) >> 2` for 2 x 2
  blocks (OpenCV's SIMD path), else the float32 product `sum * (1 / area)` rounded.
* INTER_LINEAR: 11-bit fixed-point coefficients; the horizontal pass sums in int32, the vertical
  pass rounds like OpenCV's SIMD kernel, `(((S0 >> 4) * b0 >> 16) + ((S1 >> 4) * b1 >> 16) + 2) >> 2`.
  Rows and columns past the border reuse the edge pixel with the unclamped weights, as OpenCV does.

Those rounding details belong to OpenCV's SIMD kernels and may change between its releases,
while setup.py accepts any OpenCV >= 4.8 (pinning one exact version of it for the whole package
would be a heavy price for one serving detail). So the tests do not chase bit equality: they hold
this resize to one grey level of the installed `cv2.resize` (tests/export/test_opencv_resize.py)
and the served model to what users see, an embedding cosine of at least 0.999 with the
builder-preprocessed photo and identical Recall@K (tests/export/test_saved_model.py).
"""

import tensorflow as tf

_COEFFICIENT_SCALE = 2048  # OpenCV's INTER_RESIZE_COEF_SCALE: 11 fractional bits
_DBL_EPSILON = 2.220446049250313e-16


def _scale(source: tf.Tensor, target: int) -> tf.Tensor:
    """Source pixels per target pixel, computed as OpenCV does: 1 / (target / source) in double."""
    return 1.0 / (tf.constant(target, tf.float64) / tf.cast(source, tf.float64))


def _linear_taps(source: tf.Tensor, target: int):
    """For each target position: the two source indices and their 11-bit integer weights."""
    position = (tf.range(target, dtype=tf.float64) + 0.5) * _scale(source, target) - 0.5
    position = tf.cast(position, tf.float32)  # OpenCV keeps the position in single precision
    start = tf.floor(position)
    fraction = position - start
    weight_start = tf.cast(tf.round((1.0 - fraction) * _COEFFICIENT_SCALE), tf.int32)
    weight_next = tf.cast(tf.round(fraction * _COEFFICIENT_SCALE), tf.int32)
    start = tf.cast(start, tf.int32)
    last = tf.cast(source, tf.int32) - 1
    return (
        tf.clip_by_value(start, 0, last),
        tf.clip_by_value(start + 1, 0, last),
        weight_start,
        weight_next,
    )


def _resize_linear(image: tf.Tensor, size: int) -> tf.Tensor:
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    top, bottom, weight_top, weight_bottom = _linear_taps(height, size)
    # Only the 2 x size source rows the vertical pass reads are widened, never the whole image;
    # each row's horizontal pass is the same arithmetic whichever rows are taken.
    needed = tf.gather(image, tf.concat([top, bottom], 0))
    left, right, weight_left, weight_right = _linear_taps(width, size)
    rows = (
        tf.cast(tf.gather(needed, left, axis=1), tf.int32) * weight_left[:, tf.newaxis]
        + tf.cast(tf.gather(needed, right, axis=1), tf.int32) * weight_right[:, tf.newaxis]
    )

    def weighted(row_values, weight):
        rows_shifted = tf.bitwise.right_shift(row_values, 4)
        return tf.bitwise.right_shift(rows_shifted * weight[:, tf.newaxis, tf.newaxis], 16)

    total = weighted(rows[:size], weight_top) + weighted(rows[size:], weight_bottom) + 2
    return tf.cast(tf.clip_by_value(tf.bitwise.right_shift(total, 2), 0, 255), tf.uint8)


def _area_taps(source: tf.Tensor, target: int):
    """OpenCV's area table as (target, taps) source indices and float32 weights, zero-padded.

    Target pixel d covers source interval [d * scale, (d + 1) * scale): a partial pixel on the
    left, whole pixels, a partial pixel on the right, each weighted by overlap / cell width.
    """
    scale = _scale(source, target)
    source_float = tf.cast(source, tf.float64)
    begin = tf.range(target, dtype=tf.float64) * scale
    end = begin + scale
    cell = tf.minimum(scale, source_float - begin)
    last_whole = tf.minimum(tf.floor(end), source_float - 1.0)
    first_whole = tf.minimum(tf.math.ceil(begin), last_whole)
    has_left = first_whole - begin > 1e-3
    has_right = end - last_whole > 1e-3
    first = tf.where(has_left, first_whole - 1.0, first_whole)
    count = (
        last_whole - first_whole + tf.cast(has_left, tf.float64) + tf.cast(has_right, tf.float64)
    )
    taps = tf.cast(tf.reduce_max(count), tf.int32)

    index = first[:, tf.newaxis] + tf.range(tf.cast(taps, tf.float64))[tf.newaxis, :]
    left_weight = (first_whole - begin) / cell
    right_weight = tf.minimum(tf.minimum(end - last_whole, 1.0), cell) / cell
    weight = tf.where(
        has_left[:, tf.newaxis] & (index < first_whole[:, tf.newaxis]),
        left_weight[:, tf.newaxis],
        tf.where(
            index < last_whole[:, tf.newaxis],
            (1.0 / cell)[:, tf.newaxis],
            tf.where(
                has_right[:, tf.newaxis] & tf.equal(index, last_whole[:, tf.newaxis]),
                right_weight[:, tf.newaxis],
                0.0,
            ),
        ),
    )
    index = tf.clip_by_value(tf.cast(index, tf.int32), 0, tf.cast(source, tf.int32) - 1)
    return taps, index, tf.cast(weight, tf.float32)


def _accumulate(values: tf.Tensor, taps, index, weight, axis: int) -> tf.Tensor:
    """Sum over taps of gathered values x weight along `axis`, added one tap at a time like OpenCV.

    Values are widened to float32 after the gather, so uint8 input is never widened whole.
    """
    weight_shape = [-1, 1, 1] if axis == 0 else [1, -1, 1]

    def gathered(tap):
        return tf.cast(tf.gather(values, index[:, tap], axis=axis), tf.float32)

    def add_tap(tap, total):
        return tap + 1, total + gathered(tap) * tf.reshape(weight[:, tap], weight_shape)

    # Adding the zero-weight padding taps leaves each float32 sum unchanged, bit for bit.
    initial = tf.zeros_like(gathered(0))
    _, total = tf.while_loop(lambda tap, _: tap < taps, add_tap, (tf.constant(0), initial))
    return total


def _by_output_row(size: int, output_row) -> tf.Tensor:
    """(size, size, 3) uint8 from output_row(d) -> (size, 3) uint8, one output row at a time.

    Each output row reads only its own source rows, so a large photo is never widened whole.
    """
    rows = tf.TensorArray(tf.uint8, size=size, element_shape=[size, 3])
    _, rows = tf.while_loop(
        lambda row, _: row < size,
        lambda row, rows: (row + 1, rows.write(row, output_row(row))),
        (tf.constant(0), rows),
        parallel_iterations=1,
    )
    return rows.stack()


def _resize_area_fractional(image: tf.Tensor, size: int) -> tf.Tensor:
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    column_taps = _area_taps(width, size)
    row_count, row_index, row_weight = _area_taps(height, size)

    def output_row(row):
        # The row pass over this output row's source rows, then OpenCV's column pass over them.
        source_rows = tf.gather(image, row_index[row])
        passed = _accumulate(source_rows, *column_taps, axis=1)
        local_index = tf.range(row_count)[tf.newaxis, :]
        total = _accumulate(passed, row_count, local_index, row_weight[row][tf.newaxis], axis=0)
        return tf.cast(tf.clip_by_value(tf.round(total[0]), 0.0, 255.0), tf.uint8)

    return _by_output_row(size, output_row)


def _resize_area_integer(image: tf.Tensor, size: int) -> tf.Tensor:
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    block_height, block_width = height // size, width // size
    area = block_height * block_width
    inverse = tf.constant(1.0, tf.float32) / tf.cast(area, tf.float32)
    halves = (block_height == 2) & (block_width == 2)

    def output_row(row):
        # A no-op crop when the scales are integers; it keeps both tf.cond branches traceable.
        block = image[row * block_height : (row + 1) * block_height, : size * block_width]
        block = tf.reshape(tf.cast(block, tf.int32), [block_height, size, block_width, 3])
        total = tf.reduce_sum(block, axis=[0, 2])
        averaged = tf.where(
            halves,
            tf.bitwise.right_shift(total + 2, 2),
            tf.cast(tf.round(tf.cast(total, tf.float32) * inverse), tf.int32),
        )
        return tf.cast(tf.clip_by_value(averaged, 0, 255), tf.uint8)

    return _by_output_row(size, output_row)


def _integer_scale(source: tf.Tensor, size: int) -> tf.Tensor:
    scale = _scale(source, size)
    return tf.abs(scale - tf.round(scale)) < _DBL_EPSILON


def resize_like_opencv(image: tf.Tensor, size: int, interpolation: str) -> tf.Tensor:
    """`cv2.resize(image, (size, size), interpolation=...)` on an (h, w, 3) uint8 image.

    Args:
        image: uint8 tensor (height, width, 3).
        size: int. Side of the square result.
        interpolation: str. "area" (only for shrinking both sides, as the builder uses it) or
            "linear".

    Returns:
        uint8 tensor (size, size, 3).
    """
    if interpolation == "linear":
        resized = _resize_linear(image, size)
    elif interpolation == "area":
        height, width = tf.shape(image)[0], tf.shape(image)[1]
        resized = tf.cond(
            _integer_scale(height, size) & _integer_scale(width, size),
            lambda: _resize_area_integer(image, size),
            lambda: _resize_area_fractional(image, size),
        )
    else:
        raise ValueError(f"interpolation={interpolation!r}: use 'area' or 'linear'")
    return tf.ensure_shape(resized, [size, size, 3])
