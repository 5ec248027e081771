"""Offline builder: raw image-caption data sets to sharded TFRecords.

    fusion-build-tfrecords --dataset=flickr8k --data_dir=RAW --output_dir=OUT

or, from Python (training builds the `shapes` data set this way when it is missing):

    import tfrecords_builder
    manifest = tfrecords_builder.build(tfrecords_builder.BuildConfig("shapes", output_dir="OUT"))
    tfrecords_builder.is_complete("OUT")
"""

import importlib

# Resolved on first use: the worker processes import this package (their module lives in it) and
# must not load TensorFlow, which the builder and manifest modules bring in.
_EXPORTS = {
    "BuildConfig": "tfrecords_builder.config",
    "BuildError": "tfrecords_builder.errors",
    "build": "tfrecords_builder.builder",
    "is_complete": "tfrecords_builder.manifest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
