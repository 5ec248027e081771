"""fusion_tf: single-network image-text retrieval with captions encoded as images."""

import os

# TensorFlow's C++ INFO and WARNING lines (CPU features, ...) drown a run's own output; a user who
# wants them sets TF_CPP_MIN_LOG_LEVEL themselves. Must happen before TensorFlow is imported.
# TensorFlow 2.21 still prints the few lines it logs before absl's logging is initialised (oneDNN,
# missing CUDA): abseil ignores the threshold until then (abseil/abseil-cpp#1957).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
