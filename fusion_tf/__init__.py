"""fusion_tf: single-network image-text retrieval with captions encoded as images."""

import os

# TensorFlow's C++ start-up lines (CPU features, missing CUDA) drown a run's own output; a user
# who wants them sets TF_CPP_MIN_LOG_LEVEL themselves. Must happen before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
