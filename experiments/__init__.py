"""Scripts run from a checkout: thin wrappers of fusion_tf.cli, the GPU check and benchmarks (bench/).

Not installed: the console scripts (fusion-train, ...) live in fusion_tf.cli.
"""
