"""The training objective: a weighted sum of the paper's loss and the batch-wise losses."""

import keras
import tensorflow as tf

from fusion_tf.losses.contrastive import ContrastiveLoss
from fusion_tf.losses.cross_modal_pairs import cross_modal_pairs
from fusion_tf.losses.hard_negative import hard_negative_loss
from fusion_tf.losses.sigmoid import SigmoidLoss
from fusion_tf.models.center_loss import CenterLoss

# "paper": softmax over instance classes + center loss (Nawaz et al. 2018, unchanged);
# "contrastive": symmetric multi-positive InfoNCE; "hard_negative": VSE++ max violation;
# "sigmoid": SigLIP's pairwise sigmoid loss.
TERMS = ("paper", "contrastive", "hard_negative", "sigmoid")
# The parts of the loss a step reports beside its sum (the paper's term in its two parts).
LOSS_PARTS = ("cross_entropy", "center_loss", "contrastive", "hard_negative", "sigmoid")


def loss_terms(loss: str) -> tuple[str, ...]:
    """'paper+contrastive' -> ("paper", "contrastive"); ValueError naming a bad or repeated term."""
    terms = tuple(term.strip() for term in loss.split("+"))
    unknown = [term for term in terms if term not in TERMS]
    if unknown or not terms or len(set(terms)) != len(terms):
        raise ValueError(
            f"--loss={loss!r}: use one or more of {', '.join(TERMS)} joined by '+', each once"
        )
    return terms


class Objective:
    """Computes a replica's share of the loss; summed over replicas it is the global batch's loss.

    Args:
        loss: str. Terms joined by '+', e.g. "paper", "contrastive", "paper+hard_negative".
        num_classes: int. Training classes (the paper's softmax and center loss).
        embedding_size: int. Size of the prelogits.
        center_loss_factor: float. Weight of the center loss inside the paper's term.
        center_loss_alpha: float. Share of a center kept per update.
        weights: dict[str, float]. Weight of each term; a missing term weighs 1.
        margin: float. Margin of the hard-negative loss.
        temperature: float. Initial temperature of the contrastive loss.
        learn_temperature: bool. Whether that temperature is trained, and the sigmoid loss's
            scale and bias.
        sigmoid_bias: float. Initial bias of the sigmoid loss.
    """

    def __init__(
        self,
        loss: str,
        num_classes: int,
        embedding_size: int,
        center_loss_factor: float,
        center_loss_alpha: float,
        weights: dict[str, float] | None = None,
        margin: float = 0.2,
        temperature: float = 0.07,
        learn_temperature: bool = True,
        sigmoid_bias: float = -10.0,
    ):
        self.terms = loss_terms(loss)
        self.weights = {term: float((weights or {}).get(term, 1.0)) for term in self.terms}
        self.margin = margin
        # The center loss exists whatever the terms, so every run's checkpoint has the same layout.
        self.center_loss = CenterLoss(
            num_classes,
            embedding_size,
            alpha=center_loss_alpha,
            center_loss_factor=center_loss_factor,
        )
        self.center_loss.build((None, embedding_size))
        self.contrastive = (
            ContrastiveLoss(temperature, learn_temperature) if "contrastive" in self.terms else None
        )
        self.sigmoid = (
            SigmoidLoss(bias=sigmoid_bias, learn_scale_and_bias=learn_temperature)
            if "sigmoid" in self.terms
            else None
        )

    @property
    def trainable_variables(self) -> list[tf.Variable]:
        return [
            variable
            for layer in (self.contrastive, self.sigmoid)
            if layer is not None
            for variable in layer.trainable_variables
        ]

    def checkpoint_items(self) -> dict:
        """The objective's state to save beside the model."""
        items = {"center_loss": self.center_loss}
        if self.contrastive is not None:
            items["contrastive_loss"] = self.contrastive
        if self.sigmoid is not None:
            items["sigmoid_loss"] = self.sigmoid
        return items

    def __call__(
        self,
        outputs: dict[str, tf.Tensor],
        labels: tf.Tensor,
        modality: tf.Tensor,
        global_samples: int,
        replicas: int,
        training: bool = True,
    ) -> dict[str, tf.Tensor]:
        """{"loss": the weighted sum, and each weighted part} for this replica's samples."""
        parts = {}
        if "paper" in self.terms:
            cross_entropy = keras.losses.sparse_categorical_crossentropy(
                labels, outputs["logits"], from_logits=True
            )
            weight = self.weights["paper"]
            parts["cross_entropy"] = weight * tf.reduce_sum(cross_entropy) / global_samples
            parts["center_loss"] = (
                weight
                * self.center_loss(outputs["prelogits"], labels, training=training)
                / replicas
            )
        if set(self.terms) - {"paper"}:
            pairs = cross_modal_pairs(outputs["prelogits"], labels, modality)
            if "contrastive" in self.terms:
                parts["contrastive"] = self.weights["contrastive"] * self.contrastive(pairs=pairs)
            if "hard_negative" in self.terms:
                parts["hard_negative"] = self.weights["hard_negative"] * hard_negative_loss(
                    pairs, self.margin
                )
            if "sigmoid" in self.terms:
                parts["sigmoid"] = self.weights["sigmoid"] * self.sigmoid(pairs=pairs)
        return {"loss": tf.add_n(list(parts.values())), **parts}
