"""Trains the single-network retrieval model; with no flags, the embedded shapes demo.

    python experiments/train.py                                  # the demo: build, train, evaluate, export
    python experiments/train.py --dataset=flickr30k              # the paper's configuration
    python experiments/train.py --experiment=flickr30k_config2   # a named paper run
    python experiments/train.py --model_dir=runs/x               # resume a killed run

Flags left unset take the experiment's value (experiments/configs/), then TrainConfig's default.
"""

import dataclasses
import pathlib
import sys

from absl import app, flags

from experiments.configs import DEFAULT_FOR_DATASET, EXPERIMENTS, get_experiment
from fusion_tf.cli.console import configure_logging
from fusion_tf.data.manifest import DataDirectoryError
from fusion_tf.training.config import CONFIG_FILE, MIXED_PRECISION, STRATEGIES, TrainConfig

FLAGS = flags.FLAGS
flags.DEFINE_enum(
    "dataset", None, list(DEFAULT_FOR_DATASET), "Data set (default: shapes, the demo)."
)
flags.DEFINE_enum("experiment", None, list(EXPERIMENTS), "A configuration in experiments/configs.")
flags.DEFINE_bool("smoke", False, "The experiment's smoke variant (tiny model, a few steps).")
flags.DEFINE_string("data_dir", None, "Built shards (default runs/DATASET/shards).")
flags.DEFINE_string("model_dir", None, "Run folder (default runs/EXPERIMENT).")
flags.DEFINE_enum("config", None, ["standard", "config2"], "The paper's input configuration.")
flags.DEFINE_enum("model", None, ["facenet", "tiny"], "Backbone preset.")
flags.DEFINE_enum("towers", None, ["single", "separate"], "One network, or one per modality.")
flags.DEFINE_integer("image_size", None, "Input side in pixels.")
flags.DEFINE_integer("images_per_batch", None, "Images a batch, each with its captions.")
flags.DEFINE_integer("epochs", None, "Passes over the training images.")
flags.DEFINE_float("learning_rate", None, "Adam learning rate.")
flags.DEFINE_float("center_loss_factor", None, "Center-loss weight (0: softmax alone).")
flags.DEFINE_float("center_loss_alpha", None, "Share of a center kept per update.")
flags.DEFINE_float("weight_decay", None, "L2 weight decay.")
flags.DEFINE_enum("standardization", None, ["fixed", "per_image"], "Pixel standardisation.")
flags.DEFINE_enum("strategy", None, list(STRATEGIES), "tf.distribute strategy.")
flags.DEFINE_string("tpu", None, "TPU address for --strategy=tpu.")
flags.DEFINE_enum("mixed_precision", None, list(MIXED_PRECISION), "Mixed precision policy.")
flags.DEFINE_bool("jit_compile", None, "Compile the train step with XLA.")
flags.DEFINE_integer("seed", None, "Seed for weights and input order.")
flags.DEFINE_integer("max_steps", None, "Stop after this many steps (0: no limit).")
flags.DEFINE_integer("log_every_steps", None, "Steps between TensorBoard scalars.")
flags.DEFINE_integer("checkpoint_every_steps", None, "Steps between regular checkpoints.")
flags.DEFINE_string("validation_split", None, "Split scored each epoch ('' to skip).")
flags.DEFINE_string("test_split", None, "Split evaluated at the end ('' to skip).")
flags.DEFINE_string("protocol", None, "Recall@K protocol: flickr_1k, coco_1k, coco_5k or all.")
flags.DEFINE_enum(
    "test_checkpoint", None, ["best", "latest"], "Checkpoint scored on the test split."
)
flags.DEFINE_bool("export", True, "Export a SavedModel at the end.")

TRAIN_FIELDS = [field.name for field in dataclasses.fields(TrainConfig)]
# Settings a resumed run may change; any other must match the run's saved config.json.
RESUMABLE = {
    "epochs",
    "max_steps",
    "log_every_steps",
    "checkpoint_every_steps",
    "strategy",
    "tpu",
    "data_dir",
}


def given_flags() -> dict:
    """The TrainConfig flags set on the command line."""
    return {
        name: FLAGS[name].value for name in TRAIN_FIELDS if name in FLAGS and FLAGS[name].present
    }


# How a run is scored at its end unless its experiment or a flag says otherwise.
DEFAULT_EVALUATION = {"split": "test", "protocol": "all", "checkpoint": "best"}


def evaluation_settings(experiment_evaluation: dict) -> dict:
    """The end-of-run evaluation: the defaults, then the experiment's, then the flags given."""
    evaluation = {**DEFAULT_EVALUATION, **experiment_evaluation}
    for key, flag in (
        ("split", "test_split"),
        ("protocol", "protocol"),
        ("checkpoint", "test_checkpoint"),
    ):
        if FLAGS[flag].value is not None:
            evaluation[key] = FLAGS[flag].value
    return evaluation


def resolve() -> tuple[TrainConfig, dict | None, dict]:
    """The run's TrainConfig, what to build if missing, and the evaluation settings."""
    given = given_flags()
    model_dir = FLAGS.model_dir
    if model_dir and (pathlib.Path(model_dir) / CONFIG_FILE).is_file():
        config = TrainConfig.load(model_dir)
        conflicts = [
            f"--{name}={value} (the run has {getattr(config, name)})"
            for name, value in given.items()
            if name not in RESUMABLE and value != getattr(config, name)
        ]
        if conflicts:
            raise app.UsageError(
                f"{model_dir} is an existing run; resuming it cannot change: {', '.join(conflicts)}. "
                "Start a new --model_dir instead."
            )
        config = dataclasses.replace(config, **{k: v for k, v in given.items() if k in RESUMABLE})
        return config, None, evaluation_settings({})

    dataset = FLAGS.dataset or "shapes"
    experiment_name = FLAGS.experiment or DEFAULT_FOR_DATASET[dataset]
    experiment = get_experiment(experiment_name, smoke=FLAGS.smoke)
    if FLAGS.dataset and experiment["train"]["dataset"] != FLAGS.dataset:
        raise app.UsageError(
            f"--experiment={experiment_name} trains on {experiment['train']['dataset']}, not --dataset={FLAGS.dataset}"
        )
    settings = {**experiment["train"], **given}
    settings.setdefault("data_dir", f"runs/{settings['dataset']}/shards")
    settings["model_dir"] = model_dir or f"runs/{experiment_name}{'_smoke' if FLAGS.smoke else ''}"
    config = TrainConfig(**settings)
    # Only the generated data set is built here; real data sets are built from their downloads.
    build = experiment["build"] if settings["dataset"] == "shapes" else None
    return config, build, evaluation_settings(experiment["evaluation"])


def main(argv: list[str]) -> None:
    configure_logging()
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from fusion_tf.orchestration.experiment import run_experiment

    config, build, evaluation = resolve()
    try:
        config.validate()
    except ValueError as error:
        raise app.UsageError(str(error)) from error
    try:
        run_experiment(
            config,
            build,
            evaluation["split"],
            evaluation["protocol"],
            FLAGS.export,
            evaluation["checkpoint"],
        )
    except DataDirectoryError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    app.run(main)
