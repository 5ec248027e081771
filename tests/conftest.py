"""Shared test fixtures: the path to ../shared/data and quiet TensorFlow logs."""

import os
import pathlib

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def _shared_dir(name: str) -> pathlib.Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent: it ships beside the project checkout in CI, not in a fresh clone")
    return path


@pytest.fixture(scope="session")
def flickr8k_sample_dir() -> pathlib.Path:
    """The 875-photo Flickr8k sample with token and Karpathy JSON files."""
    return _shared_dir("flickr8k_sample")


@pytest.fixture(scope="session")
def flickr8k_trainval_dir() -> pathlib.Path:
    """The official Flickr8k train (6000) and dev (1000) splits at 160x160."""
    return _shared_dir("flickr8k_trainval")
