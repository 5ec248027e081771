"""fusion-train: trains the single-network retrieval model; with no flags, the embedded shapes demo.

    fusion-train                                    # the demo: build, train, evaluate, export
    fusion-train --dataset=flickr30k                # the paper's configuration
    fusion-train --experiment=flickr30k_config2     # a named paper run
    fusion-train --model_dir=runs/x                 # resume a killed or moved run

A run holds its folder's lock: a second one there fails at once (exit 2). SIGTERM or SIGINT ends
it after the current step with a checkpoint, exit code 143 or 130.

(`python experiments/train.py` is the same command.) Every field of TrainConfig and of
EvaluationConfig (the end-of-run test) is a flag of its name, generated from the dataclass; flags
left unset take the experiment's value (fusion_tf/configs/), then the dataclass default.
"""

import dataclasses
import pathlib
import sys

from absl import app, flags

from fusion_tf.cli.config_flags import define_config_flags, given_values
from fusion_tf.cli.console import configure_logging, run_command
from fusion_tf.config_fields import SettingTypeError
from fusion_tf.configs import DEFAULT_FOR_DATASET, EXPERIMENTS, get_experiment
from fusion_tf.data.manifest import DataDirectoryError
from fusion_tf.orchestration.experiment import EvaluationConfig, run_experiment
from fusion_tf.training.config import CONFIG_FILE, TrainConfig
from fusion_tf.training.run_folder import RunFolderBusyError, UnreadableCheckpointError
from fusion_tf.training.trainer import TrainingInterruptedError

FLAGS = flags.FLAGS
define_config_flags(TrainConfig)
define_config_flags(EvaluationConfig)
flags.DEFINE_enum("experiment", None, list(EXPERIMENTS), "A configuration in fusion_tf/configs.")
flags.DEFINE_bool("smoke", False, "The experiment's smoke variant (tiny model, a few steps).")
flags.DEFINE_bool("export", True, "Export a SavedModel at the end.")

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


def evaluation_settings(experiment_evaluation: dict) -> EvaluationConfig:
    """The end-of-run evaluation: EvaluationConfig's defaults, the experiment's, the flags given."""
    return EvaluationConfig(**{**experiment_evaluation, **given_values(EvaluationConfig)})


def resolve() -> tuple[TrainConfig, dict | None, EvaluationConfig]:
    """The run's TrainConfig, what to build if missing, and the evaluation settings."""
    given = given_values(TrainConfig)
    model_dir = FLAGS.model_dir
    if model_dir and (pathlib.Path(model_dir) / CONFIG_FILE).is_file():
        # The folder is the run: load takes model_dir as where it is now, however spelled.
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
    try:
        config, build, evaluation = resolve()
        config.validate()
    except (SettingTypeError, ValueError) as error:
        raise app.UsageError(str(error)) from error
    try:
        run_experiment(config, build, evaluation, FLAGS.export)
    except (DataDirectoryError, RunFolderBusyError, UnreadableCheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except TrainingInterruptedError as error:
        print(error, file=sys.stderr)
        sys.exit(error.exit_code)


def run() -> None:
    run_command(main)


if __name__ == "__main__":
    run()
