"""Paper configurations: one small config per reported run, each with a smoke variant that CI runs.

A config module has `get_config()` and `get_smoke_config()`, each returning
{"train": TrainConfig fields, "build": tfrecords_builder options, "evaluation": EvaluationConfig
fields}. `fusion-train --dataset=NAME` uses DEFAULT_FOR_DATASET[NAME];
`--experiment=NAME` picks one. They live in the package, not in experiments/, so that the
installed console scripts find them. `reference_results.json` holds the published rows that
evaluation prints beside ours.
"""

import importlib
import pathlib

REFERENCE_RESULTS_FILE = pathlib.Path(__file__).with_name("reference_results.json")
EXPERIMENTS = (
    "flickr30k_standard",
    "flickr30k_config2",
    "coco1k_config2",
    "flickr8k",
    "flickr8k_cpu",
    "flickr8k_cpu_contrastive",
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
    module = importlib.import_module(f"fusion_tf.configs.{name}")
    return module.get_smoke_config() if smoke else module.get_config()
