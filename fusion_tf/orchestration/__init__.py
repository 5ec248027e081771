"""Whole runs: build the data, train, evaluate and export, calling the library packages below.

The library packages import one way (text -> data -> models -> evaluation -> training -> export ->
search; tests/test_import_graph.py checks it), and none of them knows the TFRecord builder or the
steps that follow its own. Putting a run's steps together is a layer of its own, above them all
and below the command lines (`fusion_tf.cli`), so that the exporter never imports the trainer and
the trainer never imports the builder.
"""
