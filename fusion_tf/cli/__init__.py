"""The command lines (console scripts fusion-train, fusion-evaluate, ...): flags in, library calls out.

Importing this package is what makes a process a command line, so it is the one place that sets
process-wide state the library must not: TensorFlow's C++ INFO and WARNING lines (CPU features,
...) drown a run's own output, so TF_CPP_MIN_LOG_LEVEL defaults to 2 here, before any command
imports TensorFlow; a user who wants those lines sets it themselves. TensorFlow 2.21 still prints
the few lines it logs before absl's logging is initialised (oneDNN, missing CUDA): abseil ignores
the threshold until then (abseil/abseil-cpp#1957). FAISS logs each instruction set it fails to
load at INFO when it is imported, which may happen while flags are defined: its loader's logger is
quieted here too.
"""

import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
logging.getLogger("faiss.loader").setLevel(logging.WARNING)
