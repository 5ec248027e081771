"""Paper configurations: one small config per reported run, each with a smoke variant that CI runs.

A config module has `get_config()` and `get_smoke_config()`, each returning
{"train": TrainConfig fields, "build": tfrecords_builder options, "evaluation": split and protocol}.
`experiments/train.py --dataset=NAME` uses DEFAULT_FOR_DATASET[NAME]; `--experiment=NAME` picks one.
"""

import importlib

EXPERIMENTS = (
    "flickr30k_standard",
    "flickr30k_config2",
    "coco1k_config2",
    "flickr8k",
    "flickr8k_cpu",
    "shapes_demo",
    "custom_example",
)
DEFAULT_FOR_DATASET = {
    "shapes": "shapes_demo",
    "flickr8k": "flickr8k",
    "flickr30k": "flickr30k_standard",
    "coco": "coco1k_config2",
    "custom": "custom_example",
}


def get_experiment(name: str, smoke: bool = False) -> dict:
    """The named experiment's settings (its smoke variant with `smoke`)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    module = importlib.import_module(f"experiments.configs.{name}")
    return module.get_smoke_config() if smoke else module.get_config()
