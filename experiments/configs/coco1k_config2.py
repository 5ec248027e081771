"""The paper's Table 2, MS-COCO 1k test (5 folds), config-2.

    python -m tfrecords_builder --dataset=coco --data_dir=RAW --output_dir=runs/coco/shards
    python experiments/train.py --experiment=coco1k_config2 --model_dir=runs/coco1k_config2
    python experiments/evaluate.py --model_dir=runs/coco1k_config2 --split=test --protocol=coco_1k

RAW is the downloaded data set (see the README for the layouts the builder recognises).
"""

from experiments.configs.paper import PAPER_TRAINING, SMOKE_TRAINING


def get_config() -> dict:
    return {
        "train": {**PAPER_TRAINING, "dataset": "coco", "config": "config2"},
        "build": {"dataset": "coco"},
        "evaluation": {"split": "test", "protocol": "coco_1k"},
    }


def get_smoke_config() -> dict:
    config = get_config()
    config["train"].update(SMOKE_TRAINING)
    config["evaluation"]["protocol"] = "all"
    return config
