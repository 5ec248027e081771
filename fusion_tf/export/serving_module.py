"""The exported object: a trained FusionModel with its input preprocessing, as two serving signatures.

* `embed_image(images)`: encoded image bytes -> `embeddings` and `valid`. Each image goes through
  exactly what evaluation sees for a photo of a built data set: the builder's conversion to the
  stored JPEG (fusion_tf.export.stored_jpeg), then the pipeline's `decode_image` (resize to the
  model's input size) and `standardize`. Bytes that cannot be used (not an image, truncated,
  corrupt, too many pixels) give `valid` False and an all-zero embedding; the other images of the
  batch are embedded as usual.
* `embed_text(captions)`: raw caption strings -> `embeddings` and per-caption word counts. The
  caption encoder's TensorFlow ops paint the canvas (the vocabulary and visual words are saved
  in the model), then the pipeline resizes and standardises it like an encoded caption read
  from the shards. A caption with no known word gives the black canvas's embedding and
  `words_used` 0; words past the canvas capacity are counted in `dropped_words`.
"""

import tensorflow as tf

from fusion_tf.data import pipeline
from fusion_tf.export.stored_jpeg import StoredImageSettings, stored_jpeg
from fusion_tf.models.fusion_model import FusionModel
from fusion_tf.text.encoder import TextImageEncoder


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
    """

    def __init__(
        self,
        model: FusionModel,
        encoder: TextImageEncoder,
        standardization: str = "fixed",
        stored_image: StoredImageSettings | None = None,
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
        self.image_size = model.image_size
        self.embedding_size = model.embedding_size

    def _photo(self, encoded: tf.Tensor) -> tf.Tensor:
        """Image bytes to the standardised model input that evaluation would compute."""
        photo = pipeline.decode_image(stored_jpeg(encoded, self.stored_image), self.image_size)
        return pipeline.standardize(photo, self.standardization)

    def _embed(self, embed, images: tf.Tensor) -> tf.Tensor:
        # The backbone fails on an empty batch, which an all-invalid or empty request gives.
        return tf.cond(
            tf.shape(images)[0] > 0,
            lambda: embed(images),
            lambda: tf.zeros([0, self.embedding_size], tf.float32),
        )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    def embed_image(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Embeddings (n, 128) of encoded images, all zeros where `valid` (n,) is False."""
        count = tf.shape(images)[0]
        size = self.image_size
        # Graph ops cannot catch an error, but tf.data can skip the elements that raise one:
        # each image is prepared on its own, with its position, and failures are dropped.
        prepared = (
            tf.data.Dataset.from_tensor_slices((tf.range(count), images))
            .map(
                lambda index, encoded: (index, self._photo(encoded)),
                num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True,
            )
            .ignore_errors()
            .batch(tf.cast(tf.maximum(count, 1), tf.int64))
        )
        nothing_valid = tf.data.Dataset.from_tensors(
            (tf.zeros([0], tf.int32), tf.zeros([0, size, size, 3], tf.float32))
        )
        positions, photos = prepared.concatenate(nothing_valid).take(1).get_single_element()
        embedded = self._embed(self.model.embed_photos, photos)
        positions = positions[:, tf.newaxis]
        return {
            "embeddings": tf.scatter_nd(positions, embedded, [count, self.embedding_size]),
            "valid": tf.scatter_nd(positions, tf.ones_like(positions[:, 0], tf.bool), [count]),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="captions")])
    def embed_text(self, captions: tf.Tensor) -> dict[str, tf.Tensor]:
        """Embeddings (n, 128) of raw captions, with the words placed, unknown and dropped."""
        encoded = self.caption_encoder.encode_with_statistics(captions)
        canvases = pipeline.resize(encoded["images"], self.image_size)
        embedded = self._embed(
            self.model.embed_captions, pipeline.standardize(canvases, self.standardization)
        )
        unknown, dropped = encoded["out_of_vocabulary_words"], encoded["dropped_words"]
        return {
            "embeddings": embedded,
            "words_used": encoded["words"] - unknown - dropped,
            "out_of_vocabulary_words": unknown,
            "dropped_words": dropped,
        }
