"""The paper's Table 1, Flickr30K, config-standard.

    fusion-build-tfrecords --dataset=flickr30k --data_dir=RAW --output_dir=runs/flickr30k/shards
    fusion-train --experiment=flickr30k_standard --model_dir=runs/flickr30k_standard
    fusion-evaluate --model_dir=runs/flickr30k_standard --split=test --protocol=flickr_1k

RAW is the downloaded data set (see the README for the layouts the builder recognises).
"""

from fusion_tf.configs.paper import paper_experiment, smoke_variant


def get_config() -> dict:
    return paper_experiment("flickr30k", "standard", "flickr_1k")


def get_smoke_config() -> dict:
    return smoke_variant(get_config())
