"""One training loop for every tf.distribute strategy: the objective, checkpoints, TensorBoard.

Keras 3's `Model.fit` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585), so the
loop is written out: a `tf.function` step run with `strategy.run`, losses scaled to the global
batch, metrics summed with `strategy.reduce`, and a Keras optimizer applying the gradients.
"""

import contextlib
import json
import logging
import math
import pathlib
import shutil
import signal
import threading
import time

import keras
import tensorflow as tf

from fusion_tf import machine
from fusion_tf.data import manifest as manifest_lib
from fusion_tf.data import pipeline
from fusion_tf.evaluation.embeddings import embed_split
from fusion_tf.evaluation.modality_gap import modality_gap
from fusion_tf.evaluation.recall import recall_at_k
from fusion_tf.losses.objective import LOSS_PARTS, Objective, loss_terms
from fusion_tf.losses.sigmoid import batch_log_odds
from fusion_tf.models.fusion_model import TOWERS, FusionModel
from fusion_tf.training import summaries, time_budget
from fusion_tf.training.config import TrainConfig
from fusion_tf.training.learning_rate import end_schedule_at, learning_rate_schedule
from fusion_tf.training.precision import dtype_policy
from fusion_tf.training.progress import Progress, format_duration
from fusion_tf.training.run_folder import (
    BEST_DIR,
    CHECKPOINT_DIR,
    HISTORY_FILE,
    MODEL_CONFIG_FILE,
    RUN_ENCODER_DIR,
    RunFolderLock,
    restore_newest_readable,
)
from fusion_tf.training.strategy import is_chief, make_strategy

logger = logging.getLogger(__name__)


# Signals that stop a run after its current step and a checkpoint (a scheduler's preemption,
# Ctrl-C); a second one acts as it did before training started.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the message names the step."""


class TrainingInterruptedError(Exception):
    """A stop signal ended training after a checkpoint of its last step.

    Args:
        signal_number: int. The signal received.
        step: int. The step checkpointed, where a resumed run starts.
    """

    def __init__(self, signal_number: int, step: int, checkpoint: str):
        self.signal_number = signal_number
        self.step = step
        super().__init__(
            f"stopped by {signal.Signals(signal_number).name} after step {step}, checkpointed in "
            f"{checkpoint}; run again with the same --model_dir to resume"
        )

    @property
    def exit_code(self) -> int:
        """The shell's code for a process ended by the signal: 143 for SIGTERM, 130 for SIGINT."""
        return 128 + self.signal_number


def build_model(config: TrainConfig, num_classes: int) -> FusionModel:
    return FusionModel(
        num_classes=num_classes,
        image_size=config.image_size,
        preset=config.preset,
        dropout_keep_probability=config.dropout_keep_probability,
        weight_decay=config.weight_decay,
        towers=config.towers,
        caption_image_size=config.caption_image_size or None,
        caption_preset=config.caption_preset or None,
    )


class Trainer:
    """Trains the fused model described by a TrainConfig on built shards.

    The model's layers take `config.mixed_precision` (the process-wide Keras policy is left as
    it was). While it trains, the chief holds the run folder's lock (`lock`, which a whole run
    may hold around training, evaluation and export): a second trainer on the folder fails at
    once. SIGTERM or SIGINT (in the main thread, one worker) ends training after the current step
    with a checkpoint, raising TrainingInterruptedError; the batches after it, when resumed, are those
    an unbroken run would have seen. Constructing a Trainer seeds Python's, NumPy's and
    TensorFlow's global random generators with `config.seed` (`keras.utils.set_random_seed`):
    Keras draws initial weights and dropout seeds from them, and the pipeline keys its shuffles and
    augmentations on the seed, so a run, and every worker of a multi-worker run, starts the same
    for a seed. Progress goes to this module's
    logger at INFO; the command lines print it.

    Args:
        config: TrainConfig. The run; validated here.
        strategy: tf.distribute.Strategy or None. Defaults to `make_strategy(config.strategy)`.
    """

    def __init__(self, config: TrainConfig, strategy: tf.distribute.Strategy | None = None):
        config.validate()
        self.config = config
        self.manifest = manifest_lib.read_manifest(config.data_dir)
        built_dataset = self.manifest.get("dataset")
        if built_dataset and built_dataset != config.dataset:
            raise manifest_lib.DataDirectoryError(
                f"--data_dir={config.data_dir} holds '{built_dataset}', not --dataset={config.dataset}; "
                f"pass --dataset={built_dataset} or build {config.dataset} into another folder"
            )
        self.num_classes = int(self.manifest["num_classes"])
        self.pipeline_config = config.pipeline()
        self.steps_per_epoch = self.num_classes // config.images_per_batch
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"{self.num_classes} training images cannot fill one batch of "
                f"--images_per_batch={config.images_per_batch}"
            )
        self.total_steps = self.steps_per_epoch * config.epochs
        if config.max_steps:
            self.total_steps = min(self.total_steps, config.max_steps)
        # What the settings ask; a time budget's plan may end sooner (self.total_steps).
        self.configured_steps = self.total_steps

        self.strategy = strategy or make_strategy(config.strategy, config.tpu)
        self.chief = is_chief(self.strategy)
        self.model_dir = pathlib.Path(config.model_dir)
        self.lock = RunFolderLock(self.model_dir) if self.chief else contextlib.nullcontext()
        devices = self.strategy.extended.worker_devices
        if config.mixed_precision == "bfloat16" and all("CPU" in device for device in devices):
            warning = machine.bfloat16_warning()
            if warning:
                logger.warning(warning)
        with self.strategy.scope():
            keras.utils.set_random_seed(config.seed)
            with dtype_policy(config.mixed_precision):
                self.model = build_model(config, self.num_classes)
            self.objective = Objective(
                config.loss,
                self.num_classes,
                self.model.embedding_size,
                center_loss_factor=config.center_loss_factor,
                center_loss_alpha=config.center_loss_alpha,
                weights={
                    "paper": config.paper_weight,
                    "contrastive": config.contrastive_weight,
                    "hard_negative": config.hard_negative_weight,
                    "sigmoid": config.sigmoid_weight,
                },
                margin=config.margin,
                temperature=config.temperature,
                learn_temperature=config.learn_temperature,
                sigmoid_bias=self._initial_sigmoid_bias(),
            )
            self.learning_rate = learning_rate_schedule(
                config.learning_rate_schedule,
                config.learning_rate,
                self.total_steps,
                warmup_steps=self.warmup_steps,
            )
            optimizer = keras.optimizers.Adam(self.learning_rate)
            if config.mixed_precision == "float16":
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            self.optimizer = optimizer
            self.trainable_variables = (
                self.model.trainable_variables + self.objective.trainable_variables
            )
            self.optimizer.build(self.trainable_variables)
            self.step = tf.Variable(
                0,
                dtype=tf.int64,
                trainable=False,
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
            # The steps planned to fit config.time_budget_minutes (0 until the first epoch's
            # end), checkpointed so that a resumed run keeps to the plan.
            self.planned_steps = tf.Variable(
                0,
                dtype=tf.int64,
                trainable=False,
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
        # Keras keeps dropout's random state in variables that are not weights, out of reach of
        # a checkpoint of the model; without them a resumed run draws other dropout masks.
        weights = {id(weight) for weight in self.model.weights}
        self.checkpoint = tf.train.Checkpoint(
            model=self.model,
            optimizer=self.optimizer,
            step=self.step,
            planned_steps=self.planned_steps,
            random_states=[state for state in self.model.variables if id(state) not in weights],
            **self.objective.checkpoint_items(),
        )
        # Every worker saves (saving is collective), but only the chief into the model dir.
        run_dir = self.model_dir
        if not self.chief:
            run_dir = (
                self.model_dir / "workers" / f"worker_{self.strategy.cluster_resolver.task_id}"
            )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(run_dir / CHECKPOINT_DIR), max_to_keep=3
        )
        self.best_manager = tf.train.CheckpointManager(
            self.checkpoint, str(run_dir / BEST_DIR), max_to_keep=1, checkpoint_name="best"
        )
        # One optimisation step: train_step(iterator over distributed_dataset()) -> summed metrics.
        # Public so that benchmarks time exactly the step training runs.
        self.train_step = self._make_train_step()

    def _initial_sigmoid_bias(self) -> float:
        """--sigmoid_bias, or the log odds of a positive pair in the global batch when unset."""
        if self.config.sigmoid_bias is not None:
            return self.config.sigmoid_bias
        bias = batch_log_odds(self.config.images_per_batch)
        if "sigmoid" in loss_terms(self.config.loss):
            logger.info(
                f"sigmoid loss: the bias starts at {bias:.2f}, the log odds of a positive pair "
                f"among {self.config.images_per_batch} images a batch"
            )
        return bias

    @property
    def warmup_steps(self) -> int:
        return round(self.config.warmup_epochs * self.steps_per_epoch)

    def _end_at(self, total_steps: int) -> None:
        """Ends training at `total_steps`, the learning-rate schedule's decay with it.

        The schedule's lengths are variables that the traced step reads, so it is not retraced.
        """
        self.total_steps = total_steps
        if callable(self.learning_rate):
            end_schedule_at(self.learning_rate, total_steps, self.warmup_steps)

    def _plan_to_budget(self, step: int, elapsed: float, pace: time_budget.Pace) -> None:
        """Sets the run's length to the steps that end within config.time_budget_minutes.

        Called at every epoch's end: the first plan, then a new one whenever the pace so far
        moves the plan's end out of the budget's last 2%, so that a host whose pace changes
        after its first epoch is followed (`time_budget.steps_within_budget`; the last epoch may
        be partial, so the budget is not left idle for want of a whole epoch).
        """
        first = int(self.planned_steps.numpy()) == 0
        planned = time_budget.steps_within_budget(
            self.config.time_budget_minutes * 60,
            elapsed,
            pace,
            steps_done=step,
            max_steps=self.configured_steps,
            planned_steps=None if first else self.total_steps,
        )
        if not first and planned == self.total_steps:
            return
        self.planned_steps.assign(planned)
        logger.info(
            f"time budget {self.config.time_budget_minutes:g} min: an epoch takes "
            f"{format_duration(pace.seconds_per_epoch)} here, so "
            f"{planned / self.steps_per_epoch:.2f} of {self.config.epochs} epochs "
            f"({planned} steps{'' if first else f', planned {self.total_steps} before'}), "
            f"ending after about {format_duration(elapsed + pace.seconds_between(step, planned))}"
        )
        if planned != self.total_steps:
            self._end_at(planned)

    @property
    def global_samples(self) -> int:
        return self.config.images_per_batch * self.pipeline_config.samples_per_image

    def _make_train_step(self):
        strategy, model, optimizer, objective = (
            self.strategy,
            self.model,
            self.optimizer,
            self.objective,
        )
        variables = self.trainable_variables
        global_samples = self.global_samples
        replicas = strategy.num_replicas_in_sync

        def replica_step(batch):
            labels = batch["labels"]
            with tf.GradientTape() as tape:
                outputs = model(batch, training=True)
                parts = objective(
                    outputs, labels, batch["modality"], global_samples, replicas, training=True
                )
                regularization = (
                    tf.add_n([tf.cast(loss, tf.float32) for loss in model.losses]) / replicas
                    if model.losses
                    else tf.constant(0.0)
                )
                loss = parts["loss"] + regularization
                scaled = optimizer.scale_loss(loss)  # loss scaling under float16, else as is
            gradients = tape.gradient(scaled, variables)
            # Without the paper's term the classifier gets no gradient but its weight decay's.
            gradients = [
                tf.zeros_like(variable) if gradient is None else gradient
                for gradient, variable in zip(gradients, variables, strict=True)
            ]
            optimizer.apply_gradients(zip(gradients, variables, strict=True))
            predictions = tf.argmax(outputs["logits"], axis=-1, output_type=tf.int32)
            correct = tf.reduce_sum(tf.cast(predictions == tf.cast(labels, tf.int32), tf.float32))
            return {
                **parts,
                "loss": loss,
                "regularization": regularization,
                "accuracy": correct / global_samples,
            }

        if self.config.jit_compile:
            replica_step = tf.function(replica_step, jit_compile=True)

        @tf.function
        def train_step(iterator):
            per_replica = strategy.run(replica_step, args=(next(iterator),))
            self.step.assign_add(1)
            return {
                name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                for name, value in per_replica.items()
            }

        return train_step

    @staticmethod
    def _loss_parts(metrics: dict[str, float]) -> str:
        return " ".join(f"{name} {metrics[name]:.4f}" for name in LOSS_PARTS if name in metrics)

    def distributed_dataset(self, start_step: int = 0):
        """The training batches from `start_step` on, endlessly repeated, split across replicas.

        A resumed run skips the batches its steps consumed, so it sees those an unbroken run
        would see next.
        """

        def dataset_fn(input_context):
            return pipeline.training_dataset(
                self.config.data_dir,
                self.pipeline_config,
                input_context=input_context,
                seed=self.config.seed + input_context.input_pipeline_id,
                repeat=True,
                skip_batches=start_step,
            )

        return self.strategy.distribute_datasets_from_function(dataset_fn)

    def _save_run_files(self) -> None:
        """The configuration, the model's constructor arguments and the encoder, beside the checkpoints."""
        self.config.save(self.model_dir)
        model_config = {
            key: value
            for key, value in self.model.get_config().items()
            if key not in ("name", "trainable", "dtype")
        }
        (self.model_dir / MODEL_CONFIG_FILE).write_text(json.dumps(model_config, indent=2) + "\n")
        encoder = self.model_dir / RUN_ENCODER_DIR
        if not encoder.is_dir():
            shutil.copytree(manifest_lib.encoder_dir(self.config.data_dir), encoder)

    def validate(self) -> dict[str, float]:
        """Recall@K (the function evaluate.py uses) and the modality gap on the validation split."""
        embeddings = embed_split(
            self.model, self.config.data_dir, self.config.validation_split, self.pipeline_config
        )
        results = recall_at_k(
            embeddings["photos"], embeddings["captions"], embeddings["caption_to_image"]
        )
        results["modality_gap"] = modality_gap(embeddings["photos"], embeddings["captions"])
        return results

    @contextlib.contextmanager
    def _stop_signals(self):
        """Records STOP_SIGNALS in `self.stop_signal` instead of dying, while training."""
        self.stop_signal = None
        several_workers = isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)
        if threading.current_thread() is not threading.main_thread() or several_workers:
            # Python takes signals in the main thread only; under several workers a checkpoint
            # is collective, and one worker stopping alone would hang the others.
            yield
            return
        previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}

        def record(number, frame):
            self.stop_signal = number
            signal.signal(number, previous[number])  # a second signal is not deferred
            logger.warning("%s: finishing the step and checkpointing", signal.Signals(number).name)

        for number in STOP_SIGNALS:
            signal.signal(number, record)
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def train(self) -> list[dict]:
        """Trains to the configured epochs (resuming from the last checkpoint); returns the history.

        Raises:
            RunFolderBusyError: another process trains in the model dir.
            TrainingInterruptedError: SIGTERM or SIGINT stopped it; the last step is checkpointed.
        """
        with self.lock, self._stop_signals():
            return self._train()

    def _train(self) -> list[dict]:
        config = self.config
        restored = restore_newest_readable(self.checkpoint, self.manager.directory)
        start_step = int(self.step.numpy())
        if restored:
            logger.info("resumed from %s at step %d", restored, start_step)
        planned = int(self.planned_steps.numpy())
        if config.time_budget_minutes and planned:
            logger.info(f"keeping the time budget's plan of {planned} steps")
            self._end_at(min(planned, self.total_steps))
        # A resumed run keeps its plan: the time its earlier part took is not known here.
        planning = bool(config.time_budget_minutes) and not planned
        counts = self.model.parameter_counts()
        if self.model.caption_preset == self.model.preset:
            towers = (
                f"{config.preset}, {TOWERS[config.towers]} of {counts['backbone']:,} parameters"
            )
        else:
            towers = (
                f"a {self.model.preset} photo backbone of {counts['backbone']:,} parameters and a "
                f"{self.model.caption_preset} caption one of {counts['caption_backbone']:,}"
            )
        logger.info(
            f"model: {towers} "
            f"(photos at {self.model.image_size} px, captions at {self.model.caption_image_size} px), "
            f"{self.num_classes}-class classifier of {counts['classifier']:,}; "
            f"{counts['total']:,} in all. {self.total_steps} steps of {self.global_samples} samples"
        )
        if self.chief:
            self._save_run_files()
        history_path = self.model_dir / HISTORY_FILE
        history = json.loads(history_path.read_text()) if history_path.is_file() else []
        history = [entry for entry in history if entry["step"] <= start_step]
        writers = summaries.Writers(self.model_dir, enabled=self.chief)
        if start_step == 0:
            writers.sample_images(self.config.data_dir, self.pipeline_config)
        validation = (
            bool(config.validation_split) and config.validation_split in self.manifest["splits"]
        )
        best_rsum = max((entry["rsum"] for entry in history if "rsum" in entry), default=-1.0)

        iterator = iter(self.distributed_dataset(start_step))
        progress = Progress(start_step, self.total_steps)
        step, window_start, window_steps = start_step, time.perf_counter(), 0
        # The budget's clock; its pace leaves out the first step, which traces the graph.
        loop_start = first_step_end = window_start
        epoch_end_seconds, epoch_ends = 0.0, 0
        while step < self.total_steps:
            if self.stop_signal is not None:
                writers.close()
                path = self.manager.save(checkpoint_number=step)
                raise TrainingInterruptedError(self.stop_signal, step, path)
            metrics = {name: float(value) for name, value in self.train_step(iterator).items()}
            step += 1
            window_steps += 1
            if step == start_step + 1:
                first_step_end = time.perf_counter()
            if not math.isfinite(metrics["loss"]):
                raise NonFiniteLossError(
                    f"the loss is {metrics['loss']} at step {step} ({self._loss_parts(metrics)}); "
                    f"the last good checkpoint is in {self.manager.directory}: lower "
                    "--learning_rate or the weight of the diverging part and resume"
                )
            if step % config.log_every_steps == 0 or step == self.total_steps:
                elapsed = time.perf_counter() - window_start
                metrics["samples_per_second"] = window_steps * self.global_samples / elapsed
                # From the schedule itself: under a strategy the optimizer's rate is a
                # distributed variable that float() cannot read.
                rate = self.learning_rate
                metrics["learning_rate"] = float(rate(step) if callable(rate) else rate)
                if self.objective.contrastive is not None:
                    metrics["contrastive_scale"] = float(self.objective.contrastive.scale)
                if self.objective.sigmoid is not None:
                    metrics["sigmoid_scale"] = float(self.objective.sigmoid.scale)
                    metrics["sigmoid_bias"] = float(self.objective.sigmoid.logit_bias)
                writers.train_scalars(step, metrics)
                logger.info(
                    f"step {step}/{self.total_steps} epoch {step / self.steps_per_epoch:.2f} "
                    f"loss {metrics['loss']:.4f} ({self._loss_parts(metrics)}) "
                    f"acc {metrics['accuracy']:.3f} {metrics['samples_per_second']:.0f} samples/s; "
                    f"{progress.describe(step)}"
                )
                window_start, window_steps = time.perf_counter(), 0
            epoch_end = step % self.steps_per_epoch == 0 or step == self.total_steps
            if step % config.checkpoint_every_steps == 0 and not epoch_end:
                self.manager.save(checkpoint_number=step)
            if epoch_end:
                steps_end = time.perf_counter()
                entry = {"step": step, "epoch": step / self.steps_per_epoch}
                if validation:
                    # Every worker validates (no collectives involved) so that all of them take
                    # the same decision about the best checkpoint, whose saving is collective.
                    entry.update(self.validate())
                    writers.validation_scalars(step, entry)
                    logger.info(
                        "validation: "
                        + " ".join(
                            f"{key} {entry[key]:.1f}"
                            for key in ("i2t_r1", "i2t_r5", "t2i_r1", "t2i_r5", "rsum")
                        )
                        + f" modality_gap {entry['modality_gap']:.3f}"
                    )
                # The planned last epoch too: a pace turned faster may fit more steps.
                if planning and step < self.configured_steps:
                    now = time.perf_counter()
                    # The steps after the first (which traces the graph; it is the only one
                    # where an epoch is one step) and the epoch ends (validation, checkpoints),
                    # each at its mean so far: both recur.
                    ends_seconds = epoch_end_seconds + now - steps_end
                    timed_steps = step - start_step - 1
                    steps_seconds = now - first_step_end - ends_seconds
                    if not timed_steps:
                        timed_steps, steps_seconds = 1, first_step_end - loop_start
                    pace = time_budget.Pace.measured(
                        steps_seconds,
                        timed_steps,
                        ends_seconds,
                        epoch_ends + 1,
                        self.steps_per_epoch,
                    )
                    self._plan_to_budget(step, now - loop_start, pace)
                    progress.total_steps = self.total_steps
                # Saved after the plan, so that a run resumed from here keeps it.
                self.manager.save(checkpoint_number=step)
                if validation and entry["rsum"] > best_rsum:
                    best_rsum = entry["rsum"]
                    self.best_manager.save(checkpoint_number=step)
                history.append(entry)
                if self.chief:
                    history_path.write_text(json.dumps(history, indent=1) + "\n")
                # samples/s counts the window's steps, not the validation and checkpoints.
                end_seconds = time.perf_counter() - steps_end
                window_start += end_seconds
                epoch_end_seconds, epoch_ends = epoch_end_seconds + end_seconds, epoch_ends + 1
        if validation and self.chief:
            writers.projector(
                embed_split(
                    self.model, config.data_dir, config.validation_split, self.pipeline_config
                )
            )
        writers.close()
        if not self.chief:
            shutil.rmtree(pathlib.Path(self.manager.directory).parent, ignore_errors=True)
        return history
