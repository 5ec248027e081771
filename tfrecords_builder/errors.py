"""The error for expected build failures: the command line prints its message without a traceback."""


class BuildError(Exception):
    """A build that cannot go on: bad settings, too many skipped items, or an output folder in use."""
