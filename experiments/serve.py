"""Serves a search page over an export: the same command as fusion-serve, fusion_tf/cli/serve.py."""

from fusion_tf.cli.serve import run

if __name__ == "__main__":
    run()
