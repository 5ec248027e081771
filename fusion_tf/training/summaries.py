"""TensorBoard output of a run: scalars, sample inputs as images, and the embedding projector."""

import pathlib

import numpy as np
import tensorflow as tf
from tensorboard.plugins import projector as projector_plugin

from fusion_tf.data import pipeline
from fusion_tf.losses.objective import LOSS_PARTS
from fusion_tf.modality import CAPTION, PHOTO

LOG_DIR = "logs"
SAMPLE_IMAGES = 3


def _displayable(images: tf.Tensor) -> tf.Tensor:
    """Standardised pixels back to 0..1 for display (min-max per image, whatever the method)."""
    low = tf.reduce_min(images, axis=[1, 2, 3], keepdims=True)
    high = tf.reduce_max(images, axis=[1, 2, 3], keepdims=True)
    return (images - low) / tf.maximum(high - low, 1e-6)


class Writers:
    """The run's summary writers (train, validation, projector); inert on non-chief workers.

    Args:
        model_dir: path. Run folder; logs go to `model_dir/logs`.
        enabled: bool. False on workers other than the chief.
    """

    def __init__(self, model_dir, enabled: bool = True):
        self.log_dir = pathlib.Path(model_dir) / LOG_DIR
        self.enabled = enabled
        if enabled:
            self.train = tf.summary.create_file_writer(str(self.log_dir / "train"))
            self.validation = tf.summary.create_file_writer(str(self.log_dir / "validation"))

    def train_scalars(self, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        with self.train.as_default(step=step):
            for name, value in metrics.items():
                group = "losses" if name in ("loss", *LOSS_PARTS, "regularization") else "train"
                tf.summary.scalar(f"{group}/{name}", value)

    def validation_scalars(self, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        with self.validation.as_default(step=step):
            for name, value in metrics.items():
                if name.startswith(("i2t_r", "t2i_r")) or name == "rsum":
                    tf.summary.scalar(f"recall/{name}", value)
                elif name == "modality_gap":
                    tf.summary.scalar("embeddings/modality_gap", value)

    def sample_images(self, data_dir: str, config: pipeline.PipelineConfig) -> None:
        """A few training photos and their encoded captions, as the network sees them."""
        if not self.enabled:
            return
        one_image = pipeline.PipelineConfig(
            **{**config.__dict__, "images_per_batch": SAMPLE_IMAGES}
        )
        batch = next(iter(pipeline.training_dataset(data_dir, one_image, seed=0)))
        images, modality = batch["images"], batch["modality"]
        with self.train.as_default(step=0):
            for name, flag in (("photos", PHOTO), ("encoded_captions", CAPTION)):
                selected = tf.boolean_mask(images, modality == flag)
                tf.summary.image(
                    f"inputs/{name}", _displayable(selected), max_outputs=2 * SAMPLE_IMAGES
                )

    def projector(self, embeddings: dict[str, np.ndarray]) -> None:
        """Validation photos and captions in TensorBoard's projector, labelled by modality and text."""
        if not self.enabled:
            return
        folder = self.log_dir / "projector"
        folder.mkdir(parents=True, exist_ok=True)
        vectors = np.concatenate([embeddings["photos"], embeddings["captions"]])
        rows = ["modality\timage_index\tcaption"]
        rows += [f"photo\t{index}\t" for index in range(len(embeddings["photos"]))]
        rows += [
            f"caption\t{index}\t{' '.join(text.split())}"
            for index, text in zip(embeddings["caption_to_image"], embeddings["texts"], strict=True)
        ]
        (folder / "metadata.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        checkpoint = tf.train.Checkpoint(embedding=tf.Variable(vectors, name="embedding"))
        checkpoint.save(str(folder / "embedding.ckpt"))
        projector_config = projector_plugin.ProjectorConfig()
        embedding = projector_config.embeddings.add()
        embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
        embedding.metadata_path = "metadata.tsv"
        projector_plugin.visualize_embeddings(str(folder), projector_config)

    def close(self) -> None:
        if self.enabled:
            self.train.close()
            self.validation.close()
