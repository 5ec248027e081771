"""Your own image-caption data: a CSV or JSON Lines file of (image, caption) rows.

    fusion-build-tfrecords --dataset=custom --data_dir=captions.csv --output_dir=runs/custom/shards
    fusion-train --dataset=custom --model_dir=runs/custom
    fusion-evaluate --model_dir=runs/custom --split=test --protocol=all

The CSV has a header with the columns `image` and `caption` (and optionally `split`); JSON Lines
rows are objects with the same keys. Image paths are relative to the file's folder. Training uses
the paper's settings; for a CPU, add `--preset=tiny --image_size=96`.
"""

from fusion_tf.configs.paper import paper_experiment, smoke_variant


def get_config() -> dict:
    return paper_experiment("custom", "standard", "all")


def get_smoke_config() -> dict:
    return smoke_variant(get_config())
