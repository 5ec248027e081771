"""Flickr8k on a CPU in about an hour: the measured real-photo run of RESULTS.md.

    fusion-build-tfrecords --dataset=flickr8k --data_dir=../shared/data/flickr8k_trainval --output_dir=runs/flickr8k/shards
    fusion-train --experiment=flickr8k_cpu
    fusion-evaluate --model_dir=runs/flickr8k_cpu --checkpoint=latest --split=val --protocol=flickr_1k --tsne --examples

The paper's losses and optimiser with config-2 inputs (each photo and its flip, five captions
and five 227-pixel crops of their 256-pixel canvases: augmentation against the overfitting a
6000-class softmax shows on 6000 photos), on the tiny preset at 112 px for 28 epochs. flickr8k_trainval has no test split, so the dev split
is both watched each epoch and reported, and the figure is the last checkpoint's, never the best
one on dev.
"""

from fusion_tf.configs.paper import paper_experiment, smoke_variant


def get_config() -> dict:
    experiment = paper_experiment("flickr8k", "config2", "flickr_1k")
    experiment["train"].update({"preset": "tiny", "image_size": 112, "epochs": 28})
    experiment["evaluation"].update({"test_split": "val", "test_checkpoint": "latest"})
    return experiment


def get_smoke_config() -> dict:
    return smoke_variant(get_config())
