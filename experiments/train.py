"""Trains the model (the README's main command): the same command as fusion-train, fusion_tf/cli/train.py."""

from fusion_tf.cli.train import run

if __name__ == "__main__":
    run()
