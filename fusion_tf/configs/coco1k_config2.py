"""The paper's Table 2, MS-COCO 1k test (5 folds), config-2.

    fusion-build-tfrecords --dataset=coco --data_dir=RAW --output_dir=runs/coco/shards
    fusion-train --experiment=coco1k_config2 --model_dir=runs/coco1k_config2
    fusion-evaluate --model_dir=runs/coco1k_config2 --split=test --protocol=coco_1k

RAW is the downloaded data set (see the README for the layouts the builder recognises).
"""

from fusion_tf.configs.paper import paper_experiment, smoke_variant


def get_config() -> dict:
    return paper_experiment("coco", "config2", "coco_1k")


def get_smoke_config() -> dict:
    return smoke_variant(get_config())
