"""Offline builder: raw image-caption data sets to sharded TFRecords.

    python -m tfrecords_builder --dataset=flickr8k --data_dir=RAW --output_dir=OUT

or, from Python (training builds the `shapes` data set this way when it is missing):

    import tfrecords_builder
    manifest = tfrecords_builder.build(tfrecords_builder.BuildConfig("shapes", output_dir="OUT"))
    tfrecords_builder.is_complete("OUT")
"""

from tfrecords_builder.builder import build
from tfrecords_builder.config import BuildConfig
from tfrecords_builder.errors import BuildError
from tfrecords_builder.manifest import is_complete

__all__ = ["BuildConfig", "BuildError", "build", "is_complete"]
