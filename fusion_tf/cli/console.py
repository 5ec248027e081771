"""What a command line shows: the library's progress lines as plain text, TensorFlow's chatter hidden."""

import logging
import sys
from collections.abc import Callable

from absl import app, flags
from absl import logging as absl_logging

# Loggers whose INFO lines are a run's progress, printed as they are to standard output.
PROGRESS_LOGGERS = ("fusion_tf",)


def configure_logging() -> None:
    """Prints fusion_tf's INFO lines to stdout as plain text; only warnings from everything else.

    The library logs and never prints (STYLE.md 11); the command line decides how logs look.
    """
    # TensorFlow logs every checkpoint write and trace at INFO through absl.
    absl_logging.set_verbosity(absl_logging.WARNING)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in PROGRESS_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False  # absl's handler on the root would print them again, prefixed


def run_command(main: Callable[[list[str]], None]) -> None:
    """`app.run(main)`, with --help showing the command's docstring and flags however it started.

    absl's --help shows the docstring of __main__ and the flags of the module named by
    sys.argv[0]: a console script or an experiments/*.py wrapper, not the fusion_tf.cli module
    (or the generator) that defined them.
    """
    sys.modules["__main__"].__doc__ = sys.modules[main.__module__].__doc__
    for module, module_flags in flags.FLAGS.flags_by_module_dict().items():
        if module.startswith("fusion_tf."):
            for flag in module_flags:
                flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    app.run(main)
