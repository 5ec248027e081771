"""`python -m tfrecords_builder`: the same command as fusion-build-tfrecords (fusion_tf/cli/build_tfrecords.py)."""

from fusion_tf.cli.build_tfrecords import run

if __name__ == "__main__":
    run()
