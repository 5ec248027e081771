"""fusion-evaluate on a tiny trained run: a split's first images scored alone, and too many refused."""

import json

from fusion_tf import data
from fusion_tf.training.config import TrainConfig


def test_the_first_images_of_a_training_split_are_scored_beside_the_whole(tiny_run, run_cli):
    config = TrainConfig.load(str(tiny_run))
    completed = run_cli(
        "evaluate", f"--model_dir={tiny_run}", "--split=train", "--first_images=5", "--protocol=all"
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "split train (its first 5 images)" in completed.stdout
    output_dir = tiny_run / "evaluation_train_first5"
    results = json.loads((output_dir / "results.json").read_text())
    captions = data.evaluation_captions(config.data_dir, "train", config.pipeline(), first_images=5)
    assert (results["images"], results["first_images"]) == (5, 5)
    assert results["captions"] == sum(len(batch["text"]) for batch in captions)
    assert "(its first 5 images)" in (output_dir / "results.md").read_text()
    assert not (tiny_run / "evaluation_train").exists()  # the whole split's folder is not touched


def test_more_images_than_the_split_has_is_one_clear_error(tiny_run, tmp_path, run_cli):
    completed = run_cli(
        "evaluate",
        f"--model_dir={tiny_run}",
        "--split=train",
        "--first_images=13",
        f"--output_dir={tmp_path / 'out'}",
    )
    assert completed.returncode == 2
    assert "split 'train' has 12 images, fewer than the 13 asked for" in completed.stderr
    assert not (tmp_path / "out").exists()  # nothing written that looks like a result
