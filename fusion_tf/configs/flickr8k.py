"""Flickr8k with the paper's settings (not a row of the paper's tables; a smaller Flickr set).

    fusion-build-tfrecords --dataset=flickr8k --data_dir=RAW --output_dir=runs/flickr8k/shards
    fusion-train --dataset=flickr8k --model_dir=runs/flickr8k
    fusion-evaluate --model_dir=runs/flickr8k --split=test --protocol=flickr_1k

RAW holds Flickr8k.token.txt with the Flickr_8k.*Images.txt split lists, or dataset_flickr8k.json,
and the images. On a CPU, use the flickr8k_cpu experiment instead: the tiny preset at 112 px on the
6000/1000 train/dev photos of ../shared/data/flickr8k_trainval, the measured run of RESULTS.md.
"""

from fusion_tf.configs.paper import paper_experiment, smoke_variant


def get_config() -> dict:
    return paper_experiment("flickr8k", "standard", "flickr_1k")


def get_smoke_config() -> dict:
    return smoke_variant(get_config())
