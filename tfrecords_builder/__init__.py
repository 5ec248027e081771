"""Offline builder: raw image-caption data sets to sharded TFRecords."""
