"""The paper's runs resolve to exactly the paper's settings, whatever objectives are added beside them."""

import dataclasses

import pytest

from fusion_tf.configs import get_experiment
from fusion_tf.training.config import TrainConfig

# Every setting of a paper run as it resolves today (section 4 of the paper, facenet where the
# paper is silent). A change here changes what "the paper's configuration" trains.
PAPER_SETTINGS = {
    "preset": "facenet",
    "caption_preset": "",
    "towers": "single",
    "image_size": 256,
    "caption_image_size": 0,
    "images_per_batch": 45,
    "captions_per_image": 5,
    "epochs": 90,
    "time_budget_minutes": 0.0,
    "learning_rate": 1e-3,
    "learning_rate_schedule": "constant",
    "warmup_epochs": 0.0,
    "loss": "paper",
    "paper_weight": 1.0,
    "center_loss_factor": 1e-2,
    "center_loss_alpha": 0.95,
    "weight_decay": 5e-4,
    "dropout_keep_probability": 0.8,
    "photo_augmentation": "none",
    "caption_augmentation": "none",
    "standardization": "fixed",
    "mixed_precision": "none",
    "jit_compile": False,
    "seed": 0,
}


@pytest.mark.parametrize(
    "name, dataset, inputs",
    [
        ("flickr30k_standard", "flickr30k", "standard"),
        ("flickr30k_config2", "flickr30k", "config2"),
        ("coco1k_config2", "coco", "config2"),
    ],
)
def test_paper_runs_resolve_to_the_papers_settings(name, dataset, inputs):
    resolved = dataclasses.asdict(TrainConfig(**get_experiment(name)["train"]))
    assert {key: resolved[key] for key in PAPER_SETTINGS} == PAPER_SETTINGS
    assert (resolved["dataset"], resolved["input_config"]) == (dataset, inputs)


def test_the_defaults_are_the_papers_settings():
    defaults = dataclasses.asdict(TrainConfig())
    assert {key: defaults[key] for key in PAPER_SETTINGS} == PAPER_SETTINGS
