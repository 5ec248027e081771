"""What a command line shows: the library's progress lines as plain text, TensorFlow's chatter hidden."""

import logging
import sys

from absl import logging as absl_logging

# Loggers whose INFO lines are a run's progress, printed as they are to standard output.
PROGRESS_LOGGERS = ("fusion_tf",)


def configure_logging() -> None:
    """Prints fusion_tf's INFO lines to stdout as plain text; only warnings from everything else.

    The library logs and never prints (STYLE.md 11); the command line decides how logs look.
    """
    # TensorFlow logs every checkpoint write and trace at INFO through absl.
    absl_logging.set_verbosity(absl_logging.WARNING)
    # FAISS logs each instruction set it fails to load at INFO.
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in PROGRESS_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False  # absl's handler on the root would print them again, prefixed
