"""GalleryIndex on a hostile gallery: named pipes, files the model refuses, same-size edits, symbolic links."""

import os
import shutil
import signal

import cv2
import numpy as np
import pytest

from fusion_tf.search.gallery_index import GalleryIndex

DIMENSION = 3


def _write_photo(path, colour):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((24, 24, 3), colour, np.uint8))


class MeanColourEmbedder:
    """Embeds a photo as its mean BGR colour plus one; refuses TIFF with a zero row, as the export does."""

    def __init__(self):
        self.images_seen = 0

    def __call__(self, encoded_images):
        self.images_seen += len(encoded_images)
        rows = []
        for encoded in encoded_images:
            if encoded[:4] in (b"II*\x00", b"MM\x00*"):
                rows.append(np.zeros(DIMENSION))
                continue
            image = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)
            rows.append(image.mean(axis=(0, 1)) + 1.0)
        return np.array(rows, np.float32)


class BlockedError(Exception):
    """Not an OSError, so that code catching read errors cannot take it for one."""


@pytest.fixture
def no_hang():
    """Fails a test that blocks for more than 20 s (a FIFO opened for reading waits for a writer)."""

    def alarm(signum, frame):
        raise BlockedError("the gallery index blocked for 20 s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_pipes_and_refused_images_are_skipped_and_listed(tmp_path, no_hang):
    gallery = tmp_path / "gallery"
    _write_photo(gallery / "red.jpg", (0, 0, 250))
    _write_photo(gallery / "green.png", (0, 250, 0))
    _write_photo(gallery / "scan.tiff", (250, 0, 0))  # OpenCV reads it, the model does not
    os.mkfifo(gallery / "pipe.jpg")

    index = GalleryIndex.build_or_load(gallery, MeanColourEmbedder(), dimension=DIMENSION)

    assert [path.name for path in index.paths] == ["green.png", "red.jpg"]
    skipped = dict(index.report.skipped)
    assert set(skipped) == {"pipe.jpg", "scan.tiff"}
    assert "not a regular file" in skipped["pipe.jpg"]
    assert "the model refused it" in skipped["scan.tiff"]
    summary = index.report.summary()
    assert "2 images embedded, 2 skipped" in summary
    assert "skipped scan.tiff: the model refused it" in summary
    cached = GalleryIndex.build_or_load(gallery, MeanColourEmbedder(), dimension=DIMENSION)
    assert not cached.report.rebuilt and cached.report.skipped == index.report.skipped


def test_same_size_edit_with_the_time_kept_is_embedded_again(tmp_path):
    gallery = tmp_path / "gallery"
    _write_photo(gallery / "photo.bmp", (0, 0, 250))
    first = GalleryIndex.build_or_load(gallery, MeanColourEmbedder(), dimension=DIMENSION)
    _write_photo(tmp_path / "other.bmp", (0, 250, 0))
    status = (gallery / "photo.bmp").stat()
    assert (tmp_path / "other.bmp").stat().st_size == status.st_size
    shutil.copyfile(tmp_path / "other.bmp", gallery / "photo.bmp")
    os.utime(gallery / "photo.bmp", ns=(status.st_atime_ns, status.st_mtime_ns))  # as cp -p does

    second = GalleryIndex.build_or_load(gallery, MeanColourEmbedder(), dimension=DIMENSION)

    assert second.report.rebuilt
    green = np.array([[1.0, 251.0, 1.0]], np.float32)
    assert second.search(green, 1)[0][0].score > first.search(green, 1)[0][0].score


def test_symbolic_links_are_followed_only_inside_the_gallery(tmp_path):
    gallery, elsewhere = tmp_path / "gallery", tmp_path / "elsewhere"
    _write_photo(gallery / "albums" / "red.jpg", (0, 0, 250))
    _write_photo(elsewhere / "secret.jpg", (0, 250, 0))
    os.symlink(gallery / "albums" / "red.jpg", gallery / "favourite.jpg")
    os.symlink(gallery / "albums", gallery / "shortcut")
    os.symlink(elsewhere / "secret.jpg", gallery / "leak.jpg")
    os.symlink(elsewhere, gallery / "outside")
    os.symlink(gallery, gallery / "albums" / "loop")

    embedder = MeanColourEmbedder()
    index = GalleryIndex.build_or_load(gallery, embedder, dimension=DIMENSION)

    names = sorted(path.relative_to(gallery).as_posix() for path in index.paths)
    # "shortcut" and "albums/loop" lead to folders walked already: each folder is walked once.
    assert names in (["albums/red.jpg", "favourite.jpg"], ["favourite.jpg", "shortcut/red.jpg"])
    assert dict(index.report.skipped) == {
        "leak.jpg": "symbolic link to a file outside the gallery",
        "outside": "symbolic link to a folder outside the gallery",
    }
    assert embedder.images_seen == 2
