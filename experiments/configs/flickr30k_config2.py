"""The paper's Table 1, Flickr30K, config-2.

    python -m tfrecords_builder --dataset=flickr30k --data_dir=RAW --output_dir=runs/flickr30k/shards
    python experiments/train.py --experiment=flickr30k_config2 --model_dir=runs/flickr30k_config2
    python experiments/evaluate.py --model_dir=runs/flickr30k_config2 --split=test --protocol=flickr_1k

RAW is the downloaded data set (see the README for the layouts the builder recognises).
"""

from experiments.configs.paper import PAPER_TRAINING, SMOKE_TRAINING


def get_config() -> dict:
    return {
        "train": {**PAPER_TRAINING, "dataset": "flickr30k", "config": "config2"},
        "build": {"dataset": "flickr30k"},
        "evaluation": {"split": "test", "protocol": "flickr_1k"},
    }


def get_smoke_config() -> dict:
    config = get_config()
    config["train"].update(SMOKE_TRAINING)
    config["evaluation"]["protocol"] = "all"
    return config
