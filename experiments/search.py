"""Searches photos or captions with an export: the same command as fusion-search, fusion_tf/cli/search.py."""

from fusion_tf.cli.search import run

if __name__ == "__main__":
    run()
