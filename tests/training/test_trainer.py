"""Training on tiny shards: the loss falls, runs resume after a kill, bad losses stop the run."""

import dataclasses
import json
import math
import re
import signal
import subprocess
import time

import numpy as np
import pytest
import tensorflow as tf

from fusion_tf import machine
from fusion_tf.evaluation.embeddings import embed_split, embed_split_with_saved_model
from fusion_tf.orchestration.export_run import export_run
from fusion_tf.training.config import TrainConfig
from fusion_tf.training.run_folder import restore_model
from fusion_tf.training.trainer import NonFiniteLossError, Trainer


@pytest.mark.slow
def test_loss_falls_and_the_run_is_complete(tiny_config, tmp_path):
    config = tiny_config(tmp_path / "run", epochs=15)
    trainer = Trainer(config)
    losses = []
    original = trainer.train_step

    def recording_step(iterator):
        metrics = original(iterator)
        losses.append(float(metrics["cross_entropy"]))
        return metrics

    trainer.train_step = recording_step
    history = trainer.train()
    assert len(losses) == 30
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5
    assert [entry["step"] for entry in history] == list(range(2, 31, 2))
    run = tmp_path / "run"
    for name in (
        "config.json",
        "model_config.json",
        "history.json",
        "encoder",
        "best",
        "checkpoints",
    ):
        assert (run / name).exists(), name
    assert (run / "logs" / "projector" / "metadata.tsv").is_file()
    restored = restore_model(str(run))
    assert restored.num_classes == 8


def test_inconsistent_configuration_names_every_problem(tiny_config, tmp_path):
    config = tiny_config(
        tmp_path, image_size=60, strategy="mirrored", jit_compile=True, captions_per_image=0
    )
    with pytest.raises(ValueError) as error:
        config.validate()
    for setting in ("--image_size=60", "--jit_compile", "--captions_per_image=0"):
        assert setting in str(error.value)


@pytest.mark.parametrize(
    "towers, caption_image_size, problem",
    [
        ("separate", 70, "--caption_image_size=70 must be between 75"),
        ("separate", 100, "and --image_size=80 (captions are resized down, never up)"),
        ("single", 75, "--caption_image_size=75 needs two backbones"),
    ],
)
def test_caption_image_size_is_checked(tiny_config, tmp_path, towers, caption_image_size, problem):
    config = tiny_config(
        tmp_path, image_size=80, towers=towers, caption_image_size=caption_image_size
    )
    with pytest.raises(ValueError, match=re.escape(problem)):
        config.validate()


@pytest.mark.parametrize("towers", ["single", "single_modality_norm"])
def test_caption_preset_needs_separate_towers(tiny_config, tmp_path, towers):
    config = tiny_config(tmp_path, towers=towers, caption_preset="small")
    with pytest.raises(ValueError, match="--caption_preset=small needs --towers=separate"):
        config.validate()
    tiny_config(tmp_path, towers=towers, caption_preset="tiny").validate()  # the same as --preset
    separate = tiny_config(tmp_path, towers="separate", caption_preset="small")
    separate.validate()
    assert Trainer(separate).model.caption_backbone.get_layer("Conv2d_1a_3x3").filters == 16


def test_mismatched_data_directory(tiny_config, tmp_path):
    with pytest.raises(ValueError, match="holds 'shapes', not --dataset=flickr30k"):
        Trainer(tiny_config(tmp_path, dataset="flickr30k"))


@pytest.mark.slow
def test_non_finite_loss_stops_with_the_step(tiny_config, tmp_path):
    trainer = Trainer(tiny_config(tmp_path, center_loss_factor=float("nan")))
    with pytest.raises(NonFiniteLossError, match="at step 1"):
        trainer.train()


@pytest.mark.slow
def test_resume_continues_from_the_last_checkpoint(tiny_config, tmp_path):
    first = Trainer(tiny_config(tmp_path, epochs=1))
    first.train()
    assert int(first.step.numpy()) == 2
    second = Trainer(tiny_config(tmp_path, epochs=2))
    history = second.train()
    assert int(second.step.numpy()) == 4
    assert [entry["step"] for entry in history] == [2, 4]


@pytest.mark.slow
def test_killed_run_resumes_with_model_dir_alone(tiny_shards, tmp_path, train_command):
    model_dir = tmp_path / "run"
    command, environment = train_command(
        f"--data_dir={tiny_shards}",
        f"--model_dir={model_dir}",
        "--epochs=40",
        "--checkpoint_every_steps=3",
    )
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.time() + 240
    while (
        time.time() < deadline
        and tf.train.latest_checkpoint(str(model_dir / "checkpoints")) is None
    ):
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        time.sleep(0.5)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = int(tf.train.latest_checkpoint(str(model_dir / "checkpoints")).rsplit("-", 1)[1])
    assert 0 < killed_at < 80

    command, environment = train_command(f"--model_dir={model_dir}", "--noexport", tiny=False)
    resumed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed from" in resumed.stdout
    final = tf.train.latest_checkpoint(str(model_dir / "checkpoints"))
    assert final.endswith("-80")  # 8 images / 4 a batch = 2 steps an epoch, 40 epochs
    saved = json.loads((model_dir / "config.json").read_text())
    assert dataclasses.replace(TrainConfig(**saved)).epochs == 40


@pytest.mark.slow
def test_resuming_cannot_change_the_model(tiny_config, tmp_path, train_command):
    Trainer(tiny_config(tmp_path, epochs=1, max_steps=1)).train()
    command, environment = train_command(
        f"--model_dir={tmp_path}", "--preset=facenet", "--noexport", tiny=False
    )
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "cannot change: --preset=facenet (the run has tiny)" in result.stderr


def test_mixed_precision_stays_with_its_trainer(tiny_config, tmp_path, monkeypatch, caplog):
    import keras

    # On a CPU without bfloat16 units the run says it would be faster in float32.
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("cpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: avx2\n")
    monkeypatch.setattr(machine, "CPUINFO", str(cpuinfo))
    global_policy = keras.config.dtype_policy().name
    with caplog.at_level("WARNING"):
        mixed = Trainer(tiny_config(tmp_path / "mixed", mixed_precision="bfloat16"))
    assert "--mixed_precision=none trains faster here" in caplog.text
    assert mixed.model.photo_backbone.get_layer("Conv2d_1a_3x3").compute_dtype == "bfloat16"
    assert keras.config.dtype_policy().name == global_policy
    caplog.clear()
    plain = Trainer(tiny_config(tmp_path / "plain"))
    assert "bfloat16" not in caplog.text
    for layer in plain.model.photo_backbone.layers:
        assert layer.compute_dtype == "float32", layer.name
        assert all(variable.dtype == "float32" for variable in layer.weights), layer.name


@pytest.mark.slow
def test_batch_wise_objectives_train_resume_and_keep_their_temperature(tiny_config, tmp_path):
    config = tiny_config(
        tmp_path,
        epochs=1,
        towers="single_modality_norm",
        image_size=80,
        caption_image_size=75,  # shared kernels at two input sizes, captions resized in-model
        loss="paper+contrastive+hard_negative+sigmoid",
        photo_augmentation="crop_color",
        learning_rate_schedule="cosine",
        warmup_epochs=0.5,
    )
    first = Trainer(config)
    history = first.train()
    assert 0 <= history[-1]["modality_gap"] <= 2
    learned = float(first.objective.contrastive.logit_scale.numpy())
    assert learned != pytest.approx(math.log(1 / 0.07))  # the temperature trained
    # The sigmoid loss's bias started at the batch's log odds, trained, and its checkpoint holds it.
    initial_bias = -math.log(config.images_per_batch - 1)
    assert first.objective.sigmoid.initial_bias == pytest.approx(initial_bias)
    learned_bias = float(first.objective.sigmoid.logit_bias.numpy())
    assert learned_bias != pytest.approx(initial_bias)
    reader = tf.train.load_checkpoint(str(tmp_path / "checkpoints"))
    saved = [
        float(reader.get_tensor(name))
        for name in reader.get_variable_to_shape_map()
        if name.startswith("sigmoid_loss/") and "bias" in name and "optimizer" not in name
    ]
    assert saved == [pytest.approx(learned_bias)]
    second = Trainer(dataclasses.replace(config, epochs=2))
    assert float(second.objective.contrastive.logit_scale.numpy()) != learned
    second.train()
    assert int(second.step.numpy()) == 4
    # Resuming restored the trained temperature, scale and bias before training on.
    assert second.objective.contrastive.logit_scale.numpy() != pytest.approx(math.log(1 / 0.07))
    assert second.objective.sigmoid.logit_bias.numpy() != pytest.approx(initial_bias)
    # Each modality's batch norms kept statistics of their own through the checkpoint.
    stem = "Conv2d_1a_3x3__BatchNorm"
    photo_mean = second.model.photo_backbone.get_layer(stem).moving_mean.numpy()
    caption_mean = second.model.caption_backbone.get_layer(stem).moving_mean.numpy()
    assert abs(photo_mean - caption_mean).max() > 1e-3
    # The export serves each modality through its own batch norms and at its own size, as
    # evaluation embeds it.
    export_dir = export_run(tmp_path, tmp_path / "export", which="latest")
    served = embed_split_with_saved_model(str(export_dir), config.data_dir, "val")
    model = restore_model(tmp_path, "latest")
    in_memory = embed_split(model, config.data_dir, "val", second.pipeline_config)
    for modality in ("photos", "captions"):
        np.testing.assert_allclose(served[modality], in_memory[modality], atol=2e-3)
    # Both paths score a split's first photos alone, and refuse more than the split has.
    for embed, args in (
        (embed_split_with_saved_model, (str(export_dir), config.data_dir, "val")),
        (embed_split, (model, config.data_dir, "val", second.pipeline_config)),
    ):
        first = embed(*args, first_images=2)
        assert len(first["photos"]) == 2 and set(first["caption_to_image"]) == {0, 1}
        np.testing.assert_allclose(first["photos"], in_memory["photos"][:2], atol=2e-3)
        kept = in_memory["caption_to_image"] < 2
        np.testing.assert_allclose(first["captions"], in_memory["captions"][kept], atol=2e-3)
        with pytest.raises(ValueError, match="has 4 images, fewer than the 5 asked for"):
            embed(*args, first_images=5)


def test_the_cosine_schedule_reaches_the_optimizer(tiny_config, tmp_path):
    trainer = Trainer(
        tiny_config(tmp_path, epochs=4, learning_rate_schedule="cosine", warmup_epochs=1)
    )
    assert float(trainer.optimizer.learning_rate) == 0.0  # warm-up starts from 0
    trainer.optimizer.iterations.assign(2)  # the end of the 1-epoch warm-up
    assert float(trainer.optimizer.learning_rate) == pytest.approx(3e-3)


@pytest.mark.slow
def test_samples_per_second_leaves_out_the_epoch_end(tiny_config, tmp_path, caplog):
    """A log window that spans an epoch's end counts its steps' time, not the validation's."""
    trainer = Trainer(tiny_config(tmp_path, epochs=2, log_every_steps=3))
    durations, original_step, original_validate = [], trainer.train_step, trainer.validate

    def timed_step(iterator):
        start = time.perf_counter()
        metrics = original_step(iterator)
        durations.append(time.perf_counter() - start)
        return metrics

    def slow_validate():
        time.sleep(3.0)
        return original_validate()

    trainer.train_step, trainer.validate = timed_step, slow_validate
    with caplog.at_level("INFO", logger="fusion_tf.training.trainer"):
        trainer.train()
    # Step 3's window holds steps 1-3 and the end of epoch 1 (step 2) with its validation.
    logged = re.search(r"step 3/4 .* (\d+) samples/s", caplog.text)
    assert logged, caplog.text
    expected = 3 * trainer.global_samples / sum(durations[:3])
    assert int(logged.group(1)) == pytest.approx(expected, rel=0.15, abs=1)
