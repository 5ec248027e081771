"""The embedded demo: the generated `shapes` data set, the tiny preset, minutes on a CPU.

    fusion-train          # builds shapes if missing, trains, evaluates, exports

It builds runs/shapes/shards (5000 train, 100 val, 100 test scenes), trains the tiny
InceptionResNet-V1 (80 px) with softmax + center loss for 7 epochs, picks the checkpoint with the
best validation rsum, reports Recall@K on the 100 held-out test scenes and exports a SavedModel.
More distinct scenes beat more passes over few: 1000 scenes x 25 epochs reached 55% R@5 on
validation, 5000 x 7 epochs (fewer steps) about 90% (measured while choosing these values; the
test split was not looked at).
"""

from fusion_tf.configs.paper import smoke_variant


def get_config() -> dict:
    return {
        "train": {
            "dataset": "shapes",
            "preset": "tiny",
            "input_config": "standard",
            "image_size": 80,
            "images_per_batch": 45,
            "learning_rate": 1e-3,
            "center_loss_factor": 1e-2,
            "weight_decay": 5e-4,
            "epochs": 7,
        },
        "build": {"dataset": "shapes", "num_train": 5000},
        "evaluation": {"test_split": "test", "protocol": "all"},
    }


def get_smoke_config() -> dict:
    config = smoke_variant(get_config())
    config["build"].update({"num_train": 8, "num_val": 4, "num_test": 4})
    return config
