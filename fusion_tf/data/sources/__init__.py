"""Data source readers: each turns one data set layout into a stream of Records and Problems."""

from fusion_tf.data.sources.detect import DATASETS, Source, open_source

__all__ = ["DATASETS", "Source", "open_source"]
