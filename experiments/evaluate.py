"""Scores a run or an export: the same command as fusion-evaluate, fusion_tf/cli/evaluate.py."""

from fusion_tf.cli.evaluate import run

if __name__ == "__main__":
    run()
