"""Flickr8k with the paper's settings (not a row of the paper's tables; a smaller Flickr set).

    python -m tfrecords_builder --dataset=flickr8k --data_dir=RAW --output_dir=runs/flickr8k/shards
    python experiments/train.py --dataset=flickr8k --model_dir=runs/flickr8k
    python experiments/evaluate.py --model_dir=runs/flickr8k --split=test --protocol=flickr_1k

RAW holds Flickr8k.token.txt with the Flickr_8k.*Images.txt split lists, or dataset_flickr8k.json,
and the images. On a CPU, the measured runs of RESULTS.md use the tiny preset on the 6000/1000
train/dev photos of ../shared/data/flickr8k_trainval (`--model=tiny --image_size=... `).
"""

from experiments.configs.paper import paper_experiment, smoke_variant


def get_config() -> dict:
    return paper_experiment("flickr8k", "standard", "flickr_1k")


def get_smoke_config() -> dict:
    return smoke_variant(get_config())
