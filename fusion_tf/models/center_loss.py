"""Center loss (Wen et al. 2016) as a Keras layer whose class centers follow the embeddings."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="fusion_tf")
class CenterLoss(keras.layers.Layer):
    """Center loss with non-trainable class centers updated during training.

    `call(features, labels, training)` returns
    `center_loss_factor * mean((features - centers[labels]) ** 2)`, the mean taken over the
    batch and the embedding dimensions as facenet's `center_loss` does
    (`tf.reduce_mean(tf.square(features - centers_batch))`), so it is the per-sample squared
    distance divided by `embedding_size`. The loss uses the centers as they were before this
    batch's update.

    With `training=True` each class j present in the batch moves towards its samples:

    - `divide_by_count=True` (Wen et al. 2016, eq. 4):
      `c_j <- c_j - (1 - alpha) * sum_{i: y_i = j} (c_j - x_i) / (1 + n_j)`.
    - `divide_by_count=False` (facenet's `tf.scatter_sub`):
      `c_j <- c_j - (1 - alpha) * sum_{i: y_i = j} (c_j - x_i)`.

    `1 - alpha` is Wen et al.'s center learning rate; `alpha` keeps facenet's meaning (the share
    of the old center that is kept). The undivided update steps by `(1 - alpha) * n_j` times the
    distance to the class mean, so it overshoots once `(1 - alpha) * n_j > 1` and diverges once
    `(1 - alpha) * n_j > 2`; batches here repeat every label (an image and its captions share a
    class), which is why dividing is the default.

    Under `tf.distribute` (MirroredStrategy, MultiWorkerMirroredStrategy) every replica gathers
    the features and labels of the whole global batch before updating, so n_j counts the
    samples of all replicas and the centers match a single-replica update on the whole batch;
    the first replica's update is applied to every copy, so the copies stay identical. The
    update has static shapes, so it compiles with XLA on one device; TensorFlow cannot compile
    it inside a multi-replica strategy (Keras's `jit_compile="auto"` does not try to). The
    centers are float32 and the features are cast to float32, so the layer is safe under mixed
    precision.

    Args:
        num_classes: int. Number of classes (rows of the centers matrix).
        embedding_size: int. Length of each feature vector. Defaults to 128.
        alpha: float. Share of the old center kept by an update; the center learning rate is
            `1 - alpha`. facenet's `center_loss_alfa` default. Defaults to 0.95.
        center_loss_factor: float. Weight multiplying the returned loss. Defaults to 1.0.
        divide_by_count: bool. Whether to divide each class's update by one plus its number of
            samples in the (global) batch. Defaults to True.
        **kwargs: Standard `keras.layers.Layer` arguments (`name`, `dtype`, ...).
    """

    def __init__(
        self,
        num_classes: int,
        embedding_size: int = 128,
        alpha: float = 0.95,
        center_loss_factor: float = 1.0,
        divide_by_count: bool = True,
        **kwargs,
    ):
        if num_classes < 1:
            raise ValueError(f"CenterLoss needs num_classes >= 1, got {num_classes}.")
        if embedding_size < 1:
            raise ValueError(f"CenterLoss needs embedding_size >= 1, got {embedding_size}.")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"CenterLoss needs alpha in [0, 1], got {alpha}.")
        # Under a mixed policy Keras would cast the features to float16 before `call`.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.embedding_size = embedding_size
        self.alpha = alpha
        self.center_loss_factor = center_loss_factor
        self.divide_by_count = divide_by_count

    def build(self, features_shape):
        if features_shape[-1] != self.embedding_size:
            raise ValueError(
                f"CenterLoss {self.name!r} expects features of size {self.embedding_size}, "
                f"got shape {tuple(features_shape)}."
            )
        # ONLY_FIRST_REPLICA: every replica computes the same update from the gathered global
        # batch, so the first replica's is applied to all copies rather than summed; this also
        # keeps the copies bitwise equal where GPU scatter-adds are not deterministic.
        self.centers = self.add_weight(
            shape=(self.num_classes, self.embedding_size),
            initializer="zeros",
            dtype="float32",
            trainable=False,
            autocast=False,
            aggregation="only_first_replica",
            name="centers",
        )

    def call(self, features, labels, training=None):
        features = tf.cast(features, tf.float32)
        labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
        centers_batch = tf.gather(self.centers, labels)
        loss = self.center_loss_factor * tf.reduce_mean(tf.square(features - centers_batch))
        if training:
            self._update_centers(tf.stop_gradient(features), labels)
        return loss

    def _update_centers(self, features, labels):
        replica_context = tf.distribute.get_replica_context()
        if replica_context is not None and replica_context.num_replicas_in_sync > 1:
            features, labels = replica_context.all_gather([features, labels], axis=0)
        # One row per sample rather than per class keeps every shape static (XLA compiles it);
        # scatter_sub adds the rows of samples sharing a class, which gives the per-class sum.
        delta = (1.0 - self.alpha) * (tf.gather(self.centers, labels) - features)
        if self.divide_by_count:
            counts = tf.math.unsorted_segment_sum(
                tf.ones_like(labels, tf.float32), labels, self.num_classes
            )
            delta = delta / (1.0 + tf.gather(counts, labels))[:, tf.newaxis]
        # A sparse update touches only the classes in the batch; `value` is the backing
        # tf.Variable (a MirroredVariable under a strategy) of this TensorFlow-only project.
        self.centers.value.scatter_sub(tf.IndexedSlices(delta, labels))

    def compute_output_shape(self, features_shape, labels_shape):
        return ()

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "embedding_size": self.embedding_size,
                "alpha": self.alpha,
                "center_loss_factor": self.center_loss_factor,
                "divide_by_count": self.divide_by_count,
            }
        )
        return config
