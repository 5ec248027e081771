"""Serve test fixtures: the tiny run exported, a gallery of coloured photos and a captions file."""

import cv2
import numpy as np
import pytest

from fusion_tf.orchestration.export_run import export_run

GALLERY_COLOURS = {"red.jpg": (0, 0, 220), "green.png": (0, 200, 0), "blue.jpg": (220, 0, 0)}
CAPTIONS = "red square\nblue circle big\n\ngreen small square\n"


@pytest.fixture(scope="session")
def served_export(tiny_run, tmp_path_factory):
    return export_run(tiny_run, tmp_path_factory.mktemp("serve") / "export")


@pytest.fixture(scope="session")
def gallery_dir(tmp_path_factory):
    """Three coloured photos, one in a subfolder, and a file that is not an image."""
    gallery = tmp_path_factory.mktemp("gallery")
    (gallery / "more").mkdir()
    for name, bgr in GALLERY_COLOURS.items():
        folder = gallery / "more" if name == "blue.jpg" else gallery
        cv2.imwrite(str(folder / name), np.full((60, 80, 3), bgr, np.uint8))
    (gallery / "broken.jpg").write_bytes(b"not an image")
    return gallery


@pytest.fixture(scope="session")
def captions_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("captions") / "captions.txt"
    path.write_text(CAPTIONS, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def search_service(served_export, gallery_dir, captions_file):
    from fusion_tf.serve.search_service import SearchService

    return SearchService.load(served_export, gallery_dir, captions_file)


@pytest.fixture(scope="session")
def photo_bytes(gallery_dir) -> bytes:
    return (gallery_dir / "red.jpg").read_bytes()
