"""A whole run: build the data if asked, train, evaluate the best checkpoint, export, summarise."""

import dataclasses
import json
import logging
import pathlib
import time

import tfrecords_builder
from fusion_tf import machine
from fusion_tf.config_fields import choice
from fusion_tf.data import manifest as manifest_lib
from fusion_tf.data import schema
from fusion_tf.evaluation.embeddings import embed_split
from fusion_tf.evaluation.protocol import PROTOCOLS
from fusion_tf.evaluation.report import evaluate_embeddings, format_results
from fusion_tf.orchestration.export_run import export_run
from fusion_tf.training.config import TrainConfig
from fusion_tf.training.run_folder import CHECKPOINTS, EXPORT_DIR, RESULTS_FILE, restore_model
from fusion_tf.training.trainer import Trainer

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """How a run is scored when its training ends; its fields are fusion-train flags too.

    Args:
        test_split: str. Split evaluated at the end ("" to skip).
        protocol: str. Recall@K protocol of the end-of-run test.
        test_checkpoint: str. Checkpoint scored on the test split: "best" by validation rsum, or
            "latest" where the only held-out split is also the one watched during training.
    """

    test_split: str = "test"
    protocol: str = choice("all", PROTOCOLS)
    test_checkpoint: str = choice("best", CHECKPOINTS)


def build_data(build: dict, output_dir: str) -> None:
    """Builds the shards into output_dir with tfrecords_builder unless a finished build is there.

    A build killed half-way has no manifest yet, so this call resumes it.
    """
    if (pathlib.Path(output_dir) / schema.MANIFEST_FILE).is_file():
        return
    fields = {field.name for field in dataclasses.fields(tfrecords_builder.BuildConfig)}
    options = {key: value for key, value in build.items() if key in fields}
    source_options = {key: value for key, value in build.items() if key not in fields}
    config = tfrecords_builder.BuildConfig(
        output_dir=output_dir, source_options=source_options, **options
    )
    logger.info("building %s into %s", config.dataset, output_dir)
    tfrecords_builder.build(config)


def run_experiment(
    config: TrainConfig,
    build: dict | None = None,
    evaluation: EvaluationConfig = EvaluationConfig(),
    export: bool = True,
) -> dict:
    """Trains (resuming if the model dir has checkpoints), then evaluates and exports; returns results.

    The run folder stays locked against other runs from training to export.

    `build` holds tfrecords_builder options for a data set built here when missing (the generated
    one); `evaluation` says which split and checkpoint are scored at the end, and how.
    """
    test_split, protocol = evaluation.test_split, evaluation.protocol
    checkpoint = evaluation.test_checkpoint
    start = time.perf_counter()
    # Minutes and samples/s compare only within one host, so the log names it.
    logger.info(machine.describe())
    logger.info(config.describe())
    logger.info(f"end-of-run evaluation: {evaluation}")
    if build is not None:
        build_data(build, config.data_dir)
    trainer = Trainer(config)
    with trainer.lock:  # no other run trains here while this one evaluates and exports
        history = trainer.train()
        model_dir = pathlib.Path(config.model_dir)
        summary = {"history": history, "train_seconds": time.perf_counter() - start}
        splits = manifest_lib.read_manifest(config.data_dir)["splits"]
        if test_split and test_split in splits:
            model = restore_model(config.model_dir, checkpoint)
            embeddings = embed_split(model, config.data_dir, test_split, config.pipeline())
            results = evaluate_embeddings(embeddings, protocol, check_size=protocol != "all")
            results["split"] = test_split
            results["checkpoint"] = checkpoint
            (model_dir / RESULTS_FILE).write_text(json.dumps(results, indent=2) + "\n")
            summary["results"] = results
            chosen = (
                "best checkpoint by validation rsum" if checkpoint == "best" else "last checkpoint"
            )
            logger.info(f"\n{test_split} split, {chosen}:\n{format_results(results)}")
        if export:
            summary["export_dir"] = str(export_run(config.model_dir, model_dir / EXPORT_DIR))
            logger.info(f"SavedModel (embed_image, embed_text): {summary['export_dir']}")
    summary["seconds"] = time.perf_counter() - start
    logger.info(f"TensorBoard: tensorboard --logdir {model_dir / 'logs'}")
    logger.info(f"finished in {summary['seconds'] / 60:.1f} minutes; run folder {model_dir}")
    return summary
