"""Every paper configuration's smoke variant, end to end on tiny data of its own format.

Each test writes a few photos and captions in the layout the real data set ships in, builds them
with tfrecords_builder, trains the smoke variant a couple of steps and evaluates the run, so a
configuration that rots fails CI.
"""

import json
import os
import pathlib
import subprocess
import sys

import cv2
import numpy as np
import pytest

from fusion_tf.configs import DEFAULT_FOR_DATASET, EXPERIMENTS, get_experiment
from fusion_tf.data.sources import DATASETS
from fusion_tf.orchestration.experiment import EvaluationConfig
from fusion_tf.training.config import TrainConfig

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]
WORDS = ["a", "dog", "cat", "runs", "sits", "on", "the", "grass", "beach", "red", "ball", "man"]
SPLIT_COUNTS = {"train": 6, "val": 3, "test": 3}


def _captions(rng, count=5):
    return [" ".join(rng.choice(WORDS, 6)) for _ in range(count)]


def _write_images(folder: pathlib.Path, names, rng):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        image = rng.integers(0, 255, (40 + rng.integers(0, 30), 60, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / name), image)


def _karpathy(root: pathlib.Path, dataset: str, rng, filepath: str | None = None):
    images, sentence_id = [], 0
    for split, count in SPLIT_COUNTS.items():
        for index in range(count):
            name = f"{split}_{index}.jpg"
            sentences = [
                {"raw": caption, "sentid": sentence_id + i}
                for i, caption in enumerate(_captions(rng))
            ]
            sentence_id += 5
            entry = {"filename": name, "imgid": len(images), "split": split, "sentences": sentences}
            if filepath:
                entry["filepath"] = filepath
            images.append(entry)
    (root / f"dataset_{dataset}.json").write_text(
        json.dumps({"dataset": dataset, "images": images})
    )
    return [entry["filename"] for entry in images]


def make_raw(dataset: str, root: pathlib.Path) -> pathlib.Path:
    """A few images with captions, laid out as the real data set is; returns the --data_dir."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    if dataset == "flickr8k":
        names = []
        lines = []
        for split, listing in (
            ("train", "trainImages"),
            ("val", "devImages"),
            ("test", "testImages"),
        ):
            split_names = [f"{split}_{index}.jpg" for index in range(SPLIT_COUNTS[split])]
            (root / f"Flickr_8k.{listing}.txt").write_text("\n".join(split_names) + "\n")
            names += split_names
        for name in names:
            lines += [f"{name}#{i}\t{caption}" for i, caption in enumerate(_captions(rng))]
        (root / "Flickr8k.token.txt").write_text("\n".join(lines) + "\n")
        _write_images(root / "Flicker8k_Dataset", names, rng)
    elif dataset == "flickr30k":
        _write_images(root / "flickr30k-images", _karpathy(root, "flickr30k", rng), rng)
    elif dataset == "coco":
        _write_images(root / "val2014", _karpathy(root, "coco", rng, filepath="val2014"), rng)
    elif dataset == "custom":
        rows = ["image,caption,split"]
        for split, count in SPLIT_COUNTS.items():
            names = [f"{split}_{index}.png" for index in range(count)]
            _write_images(root / "pictures", names, rng)
            rows += [
                f"pictures/{name},{caption},{split}" for name in names for caption in _captions(rng)
            ]
        (root / "captions.csv").write_text("\n".join(rows) + "\n")
        return root / "captions.csv"
    return root


def run(script: str, *arguments: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "experiments" / script), *arguments],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def test_every_data_set_has_a_default_experiment():
    assert set(DEFAULT_FOR_DATASET) == set(DATASETS)
    assert set(DEFAULT_FOR_DATASET.values()) <= set(EXPERIMENTS)
    for name in EXPERIMENTS:
        config, smoke = get_experiment(name), get_experiment(name, smoke=True)
        assert config["train"]["dataset"] == smoke["train"]["dataset"]
        # Every key is a TrainConfig field and the values agree (the run folders come from flags).
        TrainConfig(**{**config["train"], "data_dir": "data", "model_dir": "run"}).validate()
        EvaluationConfig(**config["evaluation"])  # and an EvaluationConfig field
        assert smoke["train"]["max_steps"] > 0


def test_paper_configs_hold_the_paper_settings():
    for name in ("flickr30k_standard", "flickr30k_config2", "coco1k_config2"):
        train = get_experiment(name)["train"]
        assert (train["image_size"], train["images_per_batch"], train["learning_rate"]) == (
            256,
            45,
            1e-3,
        )
        assert train["preset"] == "facenet" and train["center_loss_factor"] > 0
    assert get_experiment("flickr30k_config2")["train"]["input_config"] == "config2"
    assert get_experiment("coco1k_config2")["evaluation"]["protocol"] == "coco_1k"


@pytest.mark.slow
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_smoke_variant_end_to_end(experiment, tmp_path):
    settings = get_experiment(experiment, smoke=True)
    dataset = settings["train"]["dataset"]
    model_dir, shards = tmp_path / "run", tmp_path / "shards"
    if dataset != "shapes":
        raw = make_raw(dataset, tmp_path / "raw")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tfrecords_builder",
                f"--dataset={dataset}",
                f"--data_dir={raw}",
                f"--output_dir={shards}",
                "--num_workers=1",
                "--word_vector_dim=6",
            ],
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            check=True,
            capture_output=True,
            timeout=300,
        )
    training = run(
        "train.py",
        f"--experiment={experiment}",
        "--smoke",
        f"--data_dir={shards}",
        f"--model_dir={model_dir}",
        "--noexport",
    )
    # The log names the host first: a run's minutes compare only within one processor.
    assert "processor: " in training.stdout + training.stderr
    assert (model_dir / "checkpoints").is_dir()
    results = json.loads((model_dir / "results.json").read_text())
    # Runs whose reported split is also watched each epoch must score the last checkpoint.
    assert results["checkpoint"] == settings["evaluation"].get("test_checkpoint", "best")
    result = run("evaluate.py", f"--model_dir={model_dir}", "--split=test", "--protocol=all")
    assert "image-to-text" in result.stdout
    assert (model_dir / "evaluation_test" / "results.md").is_file()
