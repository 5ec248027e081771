"""The fused retrieval network: one backbone (or, for the ablation, two) -> prelogits -> logits."""

import keras
import tensorflow as tf

from fusion_tf.modality import CAPTION, PHOTO
from fusion_tf.models.inception_resnet_v1 import inception_resnet_v1

# Each choice of towers and how a run's log describes it. "single_modality_norm": one network
# whose convolutions and bottleneck embed both modalities, with batch norms of its own for each
# (domain-specific batch norm, Chang et al. 2019), so no batch's statistics mix photos with captions.
TOWERS = {
    "single": "one backbone",
    "separate": "two backbones",
    "single_modality_norm": "one backbone with batch norms per modality",
}


@keras.saving.register_keras_serializable(package="fusion_tf")
class FusionModel(keras.Model):
    """InceptionResNet-V1 embedding photos and encoded captions, with a softmax head over classes.

    `call({"images", "modality"})` returns {"prelogits": (n, 128), "logits": (n, classes)}, both
    float32. With `towers="single"` (the paper's model) the same weights embed both modalities
    and `modality` is not used; `towers="separate"` gives each modality its own backbone of the
    same architecture (the ablation of the paper's claim) and routes each sample by its flag;
    `towers="single_modality_norm"` routes the same way through two backbones that share every
    convolution and the bottleneck and differ only in their batch norms.
    With two backbones the caption one may read a smaller side, `caption_image_size`: captions
    arrive at `image_size` like photos (one batch tensor, one serving input) and are resized
    inside the model, so the caption tower's convolutions cost (caption_image_size /
    image_size)^2 of the photo tower's per sample. Encoded captions are blocks of flat colour,
    which survive a downscale that would blur a photo's detail. With two separate backbones the
    caption one may also be narrower and shallower, `caption_preset`: a step's caption views
    outnumber its photos five to one, so the caption tower's width decides most of a step's cost.
    The retrieval embedding is the L2-normalised prelogits (`embed_photos`, `embed_captions`).

    Args:
        num_classes: int. Training classes (one per training image).
        image_size: int. Side of the square input images. Defaults to 160.
        preset: str. Backbone preset, a name in inception_resnet_v1's `PRESETS`. Defaults to
            "facenet".
        embedding_size: int. Bottleneck size. Defaults to 128.
        dropout_keep_probability: float. facenet's keep probability. Defaults to 0.8.
        weight_decay: float. facenet's L2 weight decay on every kernel. Defaults to 5e-4.
        towers: str. One of `TOWERS`. Defaults to "single".
        caption_image_size: int or None. Side the caption backbone reads; None: `image_size`.
            Only with two backbones ("single" is one network at one input size).
        caption_preset: str or None. Preset of the caption backbone; None: `preset`. Only with
            `towers="separate"` (the other choices share convolutions, hence their shapes).
        **kwargs: Standard `keras.Model` arguments.
    """

    def __init__(
        self,
        num_classes: int,
        image_size: int = 160,
        preset: str = "facenet",
        embedding_size: int = 128,
        dropout_keep_probability: float = 0.8,
        weight_decay: float = 5e-4,
        towers: str = "single",
        caption_image_size: int | None = None,
        caption_preset: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if towers not in TOWERS:
            raise ValueError(f"towers={towers!r}: use one of {tuple(TOWERS)}")
        caption_image_size = caption_image_size or image_size
        if caption_image_size != image_size and towers == "single":
            raise ValueError(
                f"caption_image_size={caption_image_size} differs from image_size={image_size}: "
                "one backbone reads both modalities at one size; use two backbones (towers "
                "'separate' or 'single_modality_norm')"
            )
        caption_preset = caption_preset or preset
        if caption_preset != preset and towers != "separate":
            raise ValueError(
                f"caption_preset={caption_preset!r} differs from preset={preset!r}: only two "
                "separate backbones (towers 'separate') can differ in shape; towers="
                f"{towers!r} shares its convolutions"
            )
        self.num_classes = num_classes
        self.image_size = image_size
        self.preset = preset
        self.embedding_size = embedding_size
        self.dropout_keep_probability = dropout_keep_probability
        self.weight_decay = weight_decay
        self.towers = towers
        self.caption_image_size = caption_image_size
        self.caption_preset = caption_preset

        def backbone(name, size=image_size, shared_weights=None, preset=preset):
            return inception_resnet_v1(
                (size, size, 3),
                preset=preset,
                embedding_size=embedding_size,
                dropout_keep_probability=dropout_keep_probability,
                weight_decay=weight_decay,
                name=name,
                shared_weights=shared_weights,
            )

        self.photo_backbone = backbone("InceptionResnetV1")
        if towers == "single":
            self.caption_backbone = self.photo_backbone
        else:
            shared = self.photo_backbone if towers == "single_modality_norm" else None
            self.caption_backbone = backbone(
                "InceptionResnetV1_captions", caption_image_size, shared, caption_preset
            )
        regularizer = keras.regularizers.L2(weight_decay / 2.0) if weight_decay > 0 else None
        self.classifier = keras.layers.Dense(
            num_classes, kernel_regularizer=regularizer, dtype="float32", name="Logits"
        )
        # Every variable exists from construction on, so a checkpoint restores before any call
        # and a distribution strategy's scope creates them all.
        self.classifier.build((None, embedding_size))
        self.built = True

    def parameter_counts(self) -> dict[str, int]:
        """Weights of each backbone, of the classifier and of the whole model (batch-norm statistics included).

        "backbone" is the photo one; shared weights count once in the total.
        """
        return {
            "backbone": self.photo_backbone.count_params(),
            "caption_backbone": self.caption_backbone.count_params(),
            "classifier": self.classifier.count_params(),
            "total": self.count_params(),
        }

    def prelogits(self, images: tf.Tensor, modality: tf.Tensor, training: bool = False):
        if self.towers == "single":
            return self.photo_backbone(images, training=training)
        # Each modality goes through its own tower only, then samples return to their places.
        modality = tf.cast(modality, tf.int32)
        positions = tf.dynamic_partition(tf.range(tf.shape(images)[0]), modality, 2)
        parts = tf.dynamic_partition(images, modality, 2)
        embedded = [
            self.photo_backbone(parts[PHOTO], training=training),
            self.caption_backbone(self._caption_input(parts[CAPTION]), training=training),
        ]
        prelogits = tf.dynamic_stitch(positions, embedded)
        return tf.ensure_shape(prelogits, [None, self.embedding_size])

    def _caption_input(self, images: tf.Tensor) -> tf.Tensor:
        """Captions at `image_size` resized to the side the caption backbone reads."""
        if self.caption_image_size == self.image_size:
            return images
        # Plain bilinear (no antialias): TFLite has it as a builtin op, and at the ratios used
        # (112 -> 80) each 5-6 px superpixel still covers several source pixels.
        size = (self.caption_image_size, self.caption_image_size)
        return tf.cast(tf.image.resize(images, size, method="bilinear"), images.dtype)

    def call(self, inputs, training=False):
        prelogits = self.prelogits(inputs["images"], inputs["modality"], training=training)
        return {"prelogits": prelogits, "logits": self.classifier(prelogits)}

    def embed_photos(self, images: tf.Tensor) -> tf.Tensor:
        """Retrieval embeddings of standardised photos: (n, 128), L2-normalised, float32."""
        return tf.math.l2_normalize(self.photo_backbone(images, training=False), axis=-1)

    def embed_captions(self, images: tf.Tensor) -> tf.Tensor:
        """Retrieval embeddings of standardised encoded captions: (n, 128), L2-normalised."""
        embedded = self.caption_backbone(self._caption_input(images), training=False)
        return tf.math.l2_normalize(embedded, axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "image_size": self.image_size,
            "preset": self.preset,
            "embedding_size": self.embedding_size,
            "dropout_keep_probability": self.dropout_keep_probability,
            "weight_decay": self.weight_decay,
            "towers": self.towers,
            "caption_image_size": self.caption_image_size,
            "caption_preset": self.caption_preset,
        }
