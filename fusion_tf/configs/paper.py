"""The paper's training settings (Nawaz et al. 2018, section 4), shared by its reported runs.

256 x 256 inputs, FaceNet's InceptionResNet-V1, a 128-d embedding, softmax over instance classes
plus center loss, Adam at 1e-3, 45 images a batch. The paper gives no epoch count, center-loss
weight or weight decay: those follow facenet's softmax training (center-loss alpha 0.95, weight
decay 5e-4, keep probability 0.8) with a center-loss factor of 1e-2 and 90 epochs.
"""

PAPER_TRAINING = {
    "preset": "facenet",
    "towers": "single",
    "image_size": 256,
    "images_per_batch": 45,
    "learning_rate": 1e-3,
    "center_loss_factor": 1e-2,
    "center_loss_alpha": 0.95,
    "weight_decay": 5e-4,
    "dropout_keep_probability": 0.8,
    "epochs": 90,
}

# What smoke variants change: the tiny preset on a few images for a few steps.
SMOKE_TRAINING = {
    "preset": "tiny",
    "image_size": 75,
    # 75 px is the backbone's least side, so captions are read at it too.
    "caption_image_size": 0,
    "caption_preset": "",
    "images_per_batch": 4,
    "epochs": 1,
    "max_steps": 2,
    "log_every_steps": 1,
}


def paper_experiment(dataset: str, input_config: str, protocol: str) -> dict:
    """A run with the paper's training settings on `dataset`, scored under `protocol`."""
    return {
        "train": {**PAPER_TRAINING, "dataset": dataset, "input_config": input_config},
        "build": {"dataset": dataset},
        "evaluation": {"test_split": "test", "protocol": protocol},
    }


def smoke_variant(experiment: dict) -> dict:
    """The same run shrunk for CI: the tiny preset for a few steps, scored on whatever is there."""
    return {
        "train": {**experiment["train"], **SMOKE_TRAINING},
        "build": dict(experiment["build"]),
        "evaluation": {**experiment["evaluation"], "protocol": "all"},
    }
