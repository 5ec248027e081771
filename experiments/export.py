"""Exports a run as a SavedModel or LiteRT files: the same command as fusion-export, fusion_tf/cli/export.py."""

from fusion_tf.cli.export import run

if __name__ == "__main__":
    run()
