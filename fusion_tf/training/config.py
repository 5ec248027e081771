"""The training configuration: one plain dataclass, printed at the start and saved with the run.

Each field is written once: its type and default here, its meaning in the class docstring and its
choices (a constant beside the code that interprets them) in the field's metadata. The command
line's flags are generated from them (`fusion_tf.cli.config_flags`), construction checks the
types (`fusion_tf.config_fields`) and `validate` the same choices, so a new setting is a new
field, documented, and nothing else.
"""

import dataclasses
import json
import os
import pathlib

from fusion_tf.config_fields import SettingTypeError, choice, choice_problems, type_problems
from fusion_tf.data.pipeline import (
    CAPTION_AUGMENTATIONS,
    INPUT_CONFIGS,
    PHOTO_AUGMENTATIONS,
    STANDARDIZATIONS,
    PipelineConfig,
)
from fusion_tf.data.sources import DATASETS
from fusion_tf.losses.objective import loss_terms
from fusion_tf.models.fusion_model import TOWERS
from fusion_tf.models.inception_resnet_v1 import MIN_INPUT_SIZE, PRESETS
from fusion_tf.training.learning_rate import SCHEDULES
from fusion_tf.training.precision import MIXED_PRECISION
from fusion_tf.training.strategy import STRATEGIES

CONFIG_FILE = "config.json"
# Fields renamed since runs were first saved: a config.json written before still loads.
RENAMED_FIELDS = {"config": "input_config", "model": "preset"}


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run depends on; the paper's values are the defaults where it gives them.

    Args:
        dataset: str. Data set name (recorded; the shards say what they hold).
        data_dir: str. Folder of built shards (tfrecords_builder output).
        model_dir: str. Where checkpoints, logs, exports and results go.
        input_config: str. The paper's input configuration: "standard" (each photo and its
            captions) or "config2" (adds the flipped photo and caption crops).
        preset: str. Backbone preset of InceptionResNet-V1.
        caption_preset: str. Preset of the caption backbone, narrower than the photo one if
            wanted (--towers=separate only; "": --preset, the paper).
        towers: str. "single" (the paper), "separate" (one backbone per modality) or
            "single_modality_norm" (one backbone with batch norms per modality).
        image_size: int. Input side in pixels (the paper resizes to 256).
        caption_image_size: int. Side the caption backbone reads, captions resized down to it
            inside the model (two backbones only; 0: image_size, the paper).
        images_per_batch: int. Images a batch, each with its captions (the paper: 45).
        captions_per_image: int. Captions drawn for each image of a batch, at random from its
            own (the paper: all 5); fewer spend a step's samples on more photos.
        epochs: int. Passes over the training images.
        time_budget_minutes: float. Minutes the training loop may take (0: no limit). At each
            epoch's end the run is planned to the most steps, `epochs` at most, that end within
            it at the pace so far (the steps after the first, which traces the graph, and the
            epoch ends with their validation), the last epoch partial where a whole one would
            not fit, and the cosine decay set to end there; a plan is kept while it ends in the
            budget's last 2%. The end-of-run evaluation and export come after it. A resumed run
            keeps the plan its checkpoint holds.
        learning_rate: float. Adam's learning rate (the paper: 1e-3).
        center_loss_factor: float. Weight of the center loss; 0 trains softmax alone.
        center_loss_alpha: float. Share of a center kept per update (1 - center learning rate).
        weight_decay: float. facenet's L2 weight decay.
        loss: str. Objective terms joined by '+': "paper" (softmax + center loss, the paper's),
            "contrastive" (symmetric InfoNCE over the batch), "hard_negative" (VSE++),
            "sigmoid" (SigLIP's pairwise sigmoid loss).
        paper_weight: float. Weight of the paper's term (softmax and center loss together).
        contrastive_weight: float. Weight of the contrastive term.
        hard_negative_weight: float. Weight of the hard-negative term.
        sigmoid_weight: float. Weight of the sigmoid term.
        temperature: float. Initial temperature of the contrastive loss (CLIP: 0.07).
        learn_temperature: bool. Train the contrastive temperature (and the sigmoid loss's scale
            and bias; the scale starts at SigLIP's 10).
        sigmoid_bias: float or None. Initial bias of the sigmoid loss; None starts it at the log
            odds of a positive pair in the batch, -log(images_per_batch - 1): -3.8 for 45
            images (SigLIP's -10 is that of its batch of 32k; from -10 the CPU recipe did not
            learn).
        margin: float. Margin of the hard-negative loss (VSE++: 0.2).
        photo_augmentation: str. "none" (the paper), "crop" (random resized crop) or
            "crop_color" (and colour jitter), on top of config-2's flip.
        caption_augmentation: str. "none" (the paper) or "crop": every caption view a random
            crop of its canvas (config-2 crops only its second five).
        learning_rate_schedule: str. "constant" (the paper) or "cosine" (warm-up, cosine decay).
        warmup_epochs: float. Linear warm-up length for the cosine schedule.
        dropout_keep_probability: float. Keep probability before the bottleneck.
        standardization: str. Pixel standardisation: "fixed" or facenet's "per_image".
        strategy: str. The tf.distribute strategy.
        tpu: str. TPU address for strategy=tpu.
        mixed_precision: str. Mixed precision of the model's layers (logits, losses, embeddings
            stay float32).
        jit_compile: bool. Compile the train step with XLA.
        seed: int. Seeds weights and input order.
        validation_split: str. Split scored each epoch ("" to skip validation).
        checkpoint_every_steps: int. Regular checkpoints in between epoch ends.
        log_every_steps: int. TensorBoard scalars every this many steps.
        max_steps: int. Stop after this many steps in all (0: no limit); for smoke runs.
    """

    dataset: str = choice("shapes", DATASETS)
    data_dir: str = ""
    model_dir: str = ""
    input_config: str = choice("standard", INPUT_CONFIGS)
    preset: str = choice("facenet", PRESETS)
    caption_preset: str = choice("", ("", *PRESETS))
    towers: str = choice("single", TOWERS)
    image_size: int = 256
    caption_image_size: int = 0
    images_per_batch: int = 45
    captions_per_image: int = 5
    epochs: int = 90
    time_budget_minutes: float = 0.0
    learning_rate: float = 1e-3
    center_loss_factor: float = 1e-2
    center_loss_alpha: float = 0.95
    weight_decay: float = 5e-4
    loss: str = "paper"
    paper_weight: float = 1.0
    contrastive_weight: float = 1.0
    hard_negative_weight: float = 1.0
    sigmoid_weight: float = 1.0
    temperature: float = 0.07
    learn_temperature: bool = True
    sigmoid_bias: float | None = None
    margin: float = 0.2
    photo_augmentation: str = choice("none", PHOTO_AUGMENTATIONS)
    caption_augmentation: str = choice("none", CAPTION_AUGMENTATIONS)
    learning_rate_schedule: str = choice("constant", SCHEDULES)
    warmup_epochs: float = 0.0
    dropout_keep_probability: float = 0.8
    standardization: str = choice("fixed", STANDARDIZATIONS)
    strategy: str = choice("auto", STRATEGIES)
    tpu: str = ""
    mixed_precision: str = choice("none", MIXED_PRECISION)
    jit_compile: bool = False
    seed: int = 0
    validation_split: str = "val"
    checkpoint_every_steps: int = 500
    log_every_steps: int = 10
    max_steps: int = 0

    def __post_init__(self):
        """Raises SettingTypeError naming every value not of its field's type ("epochs": "3")."""
        problems = type_problems(self)
        if problems:
            raise SettingTypeError("settings of the wrong type:\n  " + "\n  ".join(problems))

    def validate(self) -> None:
        """Raises ValueError naming every inconsistent value at once."""
        problems = choice_problems(self)
        if self.image_size < MIN_INPUT_SIZE:
            problems.append(
                f"--image_size={self.image_size}: InceptionResNet-V1 needs at least {MIN_INPUT_SIZE}"
            )
        if self.caption_image_size:
            if not MIN_INPUT_SIZE <= self.caption_image_size <= self.image_size:
                problems.append(
                    f"--caption_image_size={self.caption_image_size} must be between "
                    f"{MIN_INPUT_SIZE} (InceptionResNet-V1's least) and --image_size="
                    f"{self.image_size} (captions are resized down, never up)"
                )
            if self.towers == "single" and self.caption_image_size != self.image_size:
                problems.append(
                    f"--caption_image_size={self.caption_image_size} needs two backbones "
                    "(--towers=separate or single_modality_norm): one network reads both "
                    "modalities at --image_size"
                )
        if self.caption_preset not in ("", self.preset) and self.towers != "separate":
            problems.append(
                f"--caption_preset={self.caption_preset} needs --towers=separate: --towers="
                f"{self.towers} shares its convolutions between the modalities, so both are "
                f"--preset={self.preset}"
            )
        at_least_one = (
            "images_per_batch",
            "captions_per_image",
            "epochs",
            "checkpoint_every_steps",
            "log_every_steps",
        )
        for name in at_least_one:
            if getattr(self, name) < 1:
                problems.append(f"--{name}={getattr(self, name)} must be at least 1")
        if self.learning_rate <= 0:
            problems.append(f"--learning_rate={self.learning_rate} must be positive")
        if self.center_loss_factor < 0 or self.weight_decay < 0:
            problems.append("--center_loss_factor and --weight_decay must not be negative")
        if not 0 <= self.center_loss_alpha <= 1:
            problems.append(f"--center_loss_alpha={self.center_loss_alpha} must be in [0, 1]")
        try:
            loss_terms(self.loss)
        except ValueError as error:
            problems.append(str(error))
        weights = (
            "paper_weight",
            "contrastive_weight",
            "hard_negative_weight",
            "sigmoid_weight",
            "warmup_epochs",
        )
        for name in weights + ("margin",):
            if getattr(self, name) < 0:
                problems.append(f"--{name}={getattr(self, name)} must not be negative")
        if self.time_budget_minutes < 0:
            problems.append(
                f"--time_budget_minutes={self.time_budget_minutes} must not be negative"
            )
        budgeted_cosine = self.time_budget_minutes and self.learning_rate_schedule == "cosine"
        if budgeted_cosine and self.warmup_epochs < 1:
            problems.append(
                f"--time_budget_minutes with the cosine schedule needs --warmup_epochs >= 1, "
                f"not {self.warmup_epochs}: the epochs are planned at the end of the first, "
                "before the decay starts"
            )
        if self.time_budget_minutes and self.strategy == "multi_worker":
            problems.append(
                "--time_budget_minutes works with one worker only: each worker would time its "
                "own epoch and plan another length"
            )
        if self.temperature <= 0:
            problems.append(f"--temperature={self.temperature} must be positive")
        if self.strategy == "tpu" and not self.tpu:
            problems.append("--strategy=tpu needs --tpu=ADDRESS")
        if self.jit_compile and self.strategy in ("mirrored", "multi_worker"):
            problems.append(
                "--jit_compile works on one device only: the center-loss update cannot be "
                "compiled inside a multi-replica strategy"
            )
        if not self.data_dir or not self.model_dir:
            problems.append("--data_dir and --model_dir must be set")
        if problems:
            raise ValueError("inconsistent configuration:\n  " + "\n  ".join(problems))

    def pipeline(self) -> PipelineConfig:
        return PipelineConfig(
            image_size=self.image_size,
            images_per_batch=self.images_per_batch,
            captions_per_image=self.captions_per_image,
            input_config=self.input_config,
            standardization=self.standardization,
            photo_augmentation=self.photo_augmentation,
            caption_augmentation=self.caption_augmentation,
        )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    def describe(self) -> str:
        """The resolved configuration, one setting a line, for the start of every run."""
        width = max(len(field.name) for field in dataclasses.fields(self))
        lines = [f"  {name:<{width}} = {value}" for name, value in dataclasses.asdict(self).items()]
        return "configuration:\n" + "\n".join(lines)

    def save(self, model_dir: str | os.PathLike) -> None:
        path = pathlib.Path(model_dir) / CONFIG_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, model_dir: str | os.PathLike) -> "TrainConfig":
        """The settings saved in a run folder, with `model_dir` the folder they were read from.

        The folder may have been moved or named another way (`runs/x/`) since it was saved.
        """
        values = json.loads((pathlib.Path(model_dir) / CONFIG_FILE).read_text())
        values = {RENAMED_FIELDS.get(name, name): value for name, value in values.items()}
        values["model_dir"] = os.fspath(model_dir)
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{model_dir}/{CONFIG_FILE} has unknown settings: {unknown}")
        try:
            return cls(**values)
        except SettingTypeError as error:
            raise SettingTypeError(f"{model_dir}/{CONFIG_FILE}: {error}") from error
