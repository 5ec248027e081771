"""The paper's Table 1, Flickr30K, config-2.

    python -m tfrecords_builder --dataset=flickr30k --data_dir=RAW --output_dir=runs/flickr30k/shards
    python experiments/train.py --experiment=flickr30k_config2 --model_dir=runs/flickr30k_config2
    python experiments/evaluate.py --model_dir=runs/flickr30k_config2 --split=test --protocol=flickr_1k

RAW is the downloaded data set (see the README for the layouts the builder recognises).
"""

from experiments.configs.paper import paper_experiment, smoke_variant


def get_config() -> dict:
    return paper_experiment("flickr30k", "config2", "flickr_1k")


def get_smoke_config() -> dict:
    return smoke_variant(get_config())
