"""The exported object: a trained FusionModel with its input preprocessing, as two serving signatures.

* `embed_image(images)`: encoded image bytes -> `embeddings` and `valid`. Each image goes through
  exactly what evaluation sees for a photo of a built data set: the builder's conversion to the
  stored JPEG (fusion_tf.export.stored_jpeg), then the pipeline's `decode_image` (resize to the
  model's input size) and `standardize`. Bytes that cannot be used (not an image, truncated,
  corrupt, too many pixels) give `valid` False and an all-zero embedding; the other images of the
  batch are embedded as usual. Memory is bounded whatever the bytes declare (ServingLimits): each
  image's size is read from its header before decoding, a few images are prepared at once, and
  a request's images past its pixel budget are refused.
* `embed_text(captions)`: raw caption strings -> `embeddings` and per-caption word counts. The
  caption encoder's TensorFlow ops paint the canvas (the vocabulary and visual words are saved
  in the model), then the pipeline resizes and standardises it like an encoded caption read
  from the shards. A caption with no known word gives the black canvas's embedding and
  `words_used` 0; words past the canvas capacity are counted in `dropped_words`. Captions are
  painted and embedded `chunk_size` at a time, so memory does not grow with the batch.
"""

import dataclasses

import tensorflow as tf

from fusion_tf.data import pipeline
from fusion_tf.data.canvas_resize import CanvasResizer
from fusion_tf.export.stored_jpeg import StoredImageSettings, decoded_pixels, stored_jpeg
from fusion_tf.models.fusion_model import FusionModel
from fusion_tf.text.encoder import TextImageEncoder


@dataclasses.dataclass(frozen=True)
class ServingLimits:
    """What one request may cost the server, whatever its bytes declare.

    Args:
        max_decoded_pixels: int. Pixels one image may hold decoded: a sequential JPEG over it
            is decoded at 1/2, 1/4 or 1/8 scale; a progressive JPEG (whose full-size
            coefficients libjpeg keeps at any scale) or another format is refused. Defaults to
            16,000,000 (a 16-bit RGBA PNG of that size takes 128 MB decoded).
        max_request_pixels: int. Decoded pixels of all the images of one request: images past
            it, in request order, are refused. Defaults to 200,000,000.
        parallel_images: int. Images decoded at once. Defaults to 4.
        chunk_size: int. Images or captions the network embeds at once. Defaults to 32.
    """

    max_decoded_pixels: int = 16_000_000
    max_request_pixels: int = 200_000_000
    parallel_images: int = 4
    chunk_size: int = 32


class FusionServingModule(tf.Module):
    """A FusionModel and its preprocessing as `embed_image` and `embed_text` tf.functions.

    Args:
        model: FusionModel. The trained network; its `image_size` is the input size.
        encoder: TextImageEncoder. The caption encoder of the model's training data; its
            TensorFlow module (vocabulary table and visual words) is tracked and saved.
        standardization: str. The run's standardisation, "fixed" or "per_image". Defaults to
            "fixed".
        stored_image: StoredImageSettings or None. How the build stored photos. Defaults to
            the builder's defaults.
        limits: ServingLimits or None. Memory bounds per image and per request. Defaults to
            ServingLimits().
    """

    def __init__(
        self,
        model: FusionModel,
        encoder: TextImageEncoder,
        standardization: str = "fixed",
        stored_image: StoredImageSettings | None = None,
        limits: ServingLimits | None = None,
    ):
        super().__init__(name="fusion_tf_serving")
        if standardization not in pipeline.STANDARDIZATIONS:
            raise ValueError(
                f"standardization={standardization!r}: use one of {pipeline.STANDARDIZATIONS}"
            )
        self.model = model
        # TF Serving restores variables through the graph's saver, which sees only tf.Variables
        # tracked as such; Keras 3 variables wrap theirs, so the wrapped ones are listed here.
        self.model_variables = [variable.value for variable in model.variables]
        self.caption_encoder = encoder.tf_module
        self.standardization = standardization
        self.stored_image = stored_image or StoredImageSettings()
        self.limits = limits or ServingLimits()
        self.image_size = model.image_size
        self.embedding_size = model.embedding_size
        self.canvases = CanvasResizer(encoder.layout, model.image_size)

    def _photo(self, encoded: tf.Tensor, allowed: tf.Tensor) -> tf.Tensor:
        """Image bytes to the standardised model input that evaluation would compute."""
        within_budget = tf.debugging.Assert(
            allowed, ["the request's images exceed max_request_pixels"]
        )
        with tf.control_dependencies([within_budget]):
            stored = stored_jpeg(encoded, self.stored_image, self.limits.max_decoded_pixels)
        photo = pipeline.decode_image(stored, self.image_size)
        return pipeline.standardize(photo, self.standardization)

    @staticmethod
    def _gathered(dataset: tf.data.Dataset, count: tf.Tensor, dtypes, shape) -> tuple:
        """(positions, values) of the (position, value) elements that raised no error."""
        # Graph ops cannot catch an error, but tf.data can skip the elements that raise one.
        nothing = tf.data.Dataset.from_tensors(
            (tf.zeros([0], dtypes[0]), tf.zeros([0, *shape], dtypes[1]))
        )
        return (
            dataset.ignore_errors()
            .batch(tf.cast(tf.maximum(count, 1), tf.int64))
            .concatenate(nothing)
            .take(1)
            .get_single_element()
        )

    def _in_chunks(self, compute, inputs: tf.Tensor, outputs: dict) -> dict[str, tf.Tensor]:
        """compute(chunk of inputs) -> dict of per-item tensors, chunk_size items at a time.

        `outputs` maps each output name to its (dtype, per-item shape). An empty input gives
        empty outputs (the backbone fails on an empty batch).
        """
        size = self.limits.chunk_size
        count = tf.shape(inputs)[0]
        chunks = (count + size - 1) // size
        arrays = {
            name: tf.TensorArray(
                dtype, size=chunks, infer_shape=False, element_shape=[None, *shape]
            )
            for name, (dtype, shape) in outputs.items()
        }

        def step(index, arrays):
            computed = compute(inputs[index * size : (index + 1) * size])
            return index + 1, {
                name: array.write(index, computed[name]) for name, array in arrays.items()
            }

        # One chunk at a time: parallel iterations would hold several chunks' activations.
        _, arrays = tf.while_loop(
            lambda index, _: index < chunks, step, (tf.constant(0), arrays), parallel_iterations=1
        )
        return {
            name: tf.cond(
                chunks > 0,
                array.concat,
                lambda dtype=dtype, shape=shape: tf.zeros([0, *shape], dtype),
            )
            for (name, array), (dtype, shape) in zip(arrays.items(), outputs.values(), strict=True)
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    def embed_image(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Embeddings (n, 128) of encoded images, all zeros where `valid` (n,) is False."""
        count = tf.shape(images)[0]
        size = self.image_size
        limits = self.limits
        # What each image will hold decoded, from its header; those past the budget are refused.
        # Unreadable headers raise (extract_jpeg_shape): tf.data drops those, and they count 0.
        sized = tf.data.Dataset.from_tensor_slices((tf.range(count), images)).map(
            lambda index, encoded: (
                index,
                decoded_pixels(encoded, self.stored_image, limits.max_decoded_pixels),
            )
        )
        indices, pixels = self._gathered(sized, count, (tf.int32, tf.int64), [])
        planned = tf.scatter_nd(indices[:, tf.newaxis], pixels, [count])
        allowed = tf.cumsum(planned) <= limits.max_request_pixels
        # Each image is prepared on its own, with its position; failures are dropped.
        prepared = tf.data.Dataset.from_tensor_slices((tf.range(count), images, allowed)).map(
            lambda index, encoded, allowed: (index, self._photo(encoded, allowed)),
            num_parallel_calls=limits.parallel_images,
            deterministic=True,
        )
        positions, photos = self._gathered(prepared, count, (tf.int32, tf.float32), [size, size, 3])
        embedded = self._in_chunks(
            lambda chunk: {"embeddings": self.model.embed_photos(chunk)},
            photos,
            {"embeddings": (tf.float32, [self.embedding_size])},
        )["embeddings"]
        positions = positions[:, tf.newaxis]
        return {
            "embeddings": tf.scatter_nd(positions, embedded, [count, self.embedding_size]),
            "valid": tf.scatter_nd(positions, tf.ones_like(positions[:, 0], tf.bool), [count]),
        }

    def _embed_caption_chunk(self, captions: tf.Tensor) -> dict[str, tf.Tensor]:
        encoded = self.caption_encoder.encode_with_statistics(captions)
        canvases = self.canvases.whole(encoded["images"])
        unknown, dropped = encoded["out_of_vocabulary_words"], encoded["dropped_words"]
        return {
            "embeddings": self.model.embed_captions(
                pipeline.standardize(canvases, self.standardization)
            ),
            "words_used": encoded["words"] - unknown - dropped,
            "out_of_vocabulary_words": unknown,
            "dropped_words": dropped,
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="captions")])
    def embed_text(self, captions: tf.Tensor) -> dict[str, tf.Tensor]:
        """Embeddings (n, 128) of raw captions, with the words placed, unknown and dropped."""
        counts = (tf.int32, [])
        return self._in_chunks(
            self._embed_caption_chunk,
            captions,
            {
                "embeddings": (tf.float32, [self.embedding_size]),
                "words_used": counts,
                "out_of_vocabulary_words": counts,
                "dropped_words": counts,
            },
        )
