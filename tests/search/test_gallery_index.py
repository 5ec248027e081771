"""Tests for GalleryIndex: embedding once, reusing the cache, rebuilding on change, reporting bad files."""

import os

import cv2
import numpy as np
import pytest

from fusion_tf.evaluation.contact_sheet import SheetCell, write_contact_sheet
from fusion_tf.search.gallery_index import GalleryIndex
from fusion_tf.search.index_cache import CACHE_DIR_NAME

DIMENSION = 12


def _write_image(path, color):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    image[:16] = color
    image[16:] = color[::-1]
    assert cv2.imwrite(str(path), image)


class CountingEmbedder:
    """Embeds an image as its mean colour per quadrant (12 numbers) and counts the images seen."""

    def __init__(self):
        self.images_seen = 0
        self.largest_batch = 0

    def __call__(self, encoded_images):
        self.images_seen += len(encoded_images)
        self.largest_batch = max(self.largest_batch, len(encoded_images))
        embeddings = []
        for encoded in encoded_images:
            image = cv2.imdecode(np.frombuffer(encoded, dtype=np.uint8), cv2.IMREAD_COLOR).astype(
                np.float32
            )
            quadrants = [image[:16, :16], image[:16, 16:], image[16:, :16], image[16:, 16:]]
            embeddings.append(np.concatenate([q.mean(axis=(0, 1)) for q in quadrants]) + 1.0)
        return np.array(embeddings, dtype=np.float32)


@pytest.fixture
def gallery(tmp_path):
    folder = tmp_path / "gallery"
    _write_image(folder / "red.jpg", (0, 0, 250))
    _write_image(folder / "green.png", (0, 250, 0))
    _write_image(folder / "nested" / "blue.JPG", (250, 0, 0))
    (folder / "broken.jpg").write_bytes(b"this is not a jpeg")
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden.jpg").write_bytes(b"ignored")
    return folder


def test_first_build_embeds_and_reports_skipped_files(gallery):
    embedder = CountingEmbedder()
    index = GalleryIndex.build_or_load(gallery, embedder, dimension=DIMENSION, batch_size=2)
    assert embedder.images_seen == 3 and embedder.largest_batch == 2
    assert index.report.rebuilt
    assert index.report.num_indexed == len(index) == 3
    assert index.report.skipped == (("broken.jpg", "not a decodable image"),)
    assert index.report.num_ignored == 1
    assert "broken.jpg: not a decodable image" in index.report.summary()
    assert (gallery / CACHE_DIR_NAME / "manifest.json").is_file()
    assert sorted(path.name for path in index.paths) == ["blue.JPG", "green.png", "red.jpg"]


def test_search_finds_the_image_itself(gallery):
    embedder = CountingEmbedder()
    index = GalleryIndex.build_or_load(gallery, embedder, dimension=DIMENSION)
    query = embedder([(gallery / "green.png").read_bytes()])
    hits = index.search(query, k=2)[0]
    assert hits[0].path == gallery / "green.png"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].score > hits[1].score


def test_unchanged_gallery_reuses_the_cache(gallery):
    first = GalleryIndex.build_or_load(gallery, CountingEmbedder(), dimension=DIMENSION)
    embedder = CountingEmbedder()
    second = GalleryIndex.build_or_load(gallery, embedder, dimension=DIMENSION)
    assert embedder.images_seen == 0
    assert not second.report.rebuilt
    assert second.paths == first.paths
    assert second.report.skipped == first.report.skipped
    query = np.ones((1, DIMENSION), dtype=np.float32)
    assert second.search(query, 3) == first.search(query, 3)


@pytest.mark.parametrize("change", ["add", "remove", "rewrite", "embedder", "index"])
def test_changes_trigger_a_rebuild(gallery, change):
    GalleryIndex.build_or_load(gallery, CountingEmbedder(), dimension=DIMENSION)
    options = {"dimension": DIMENSION}
    if change == "add":
        _write_image(gallery / "nested" / "white.png", (250, 250, 250))
    elif change == "remove":
        (gallery / "red.jpg").unlink()
    elif change == "rewrite":
        _write_image(gallery / "red.jpg", (0, 0, 120))
        status = (gallery / "red.jpg").stat()
        os.utime(gallery / "red.jpg", ns=(status.st_atime_ns, status.st_mtime_ns + 1))
    elif change == "embedder":
        options["embedder_id"] = "checkpoint-2"
    else:
        options["kind"] = "hnsw"
    embedder = CountingEmbedder()
    index = GalleryIndex.build_or_load(gallery, embedder, **options)
    assert index.report.rebuilt
    expected = {"add": 4, "remove": 2}.get(change, 3)
    assert embedder.images_seen == len(index) == expected
    assert not GalleryIndex.build_or_load(gallery, embedder, **options).report.rebuilt


def test_touching_a_file_keeps_the_cache(gallery):
    GalleryIndex.build_or_load(gallery, CountingEmbedder(), dimension=DIMENSION)
    status = (gallery / "green.png").stat()
    os.utime(gallery / "green.png", ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000_000))
    embedder = CountingEmbedder()
    assert not GalleryIndex.build_or_load(gallery, embedder, dimension=DIMENSION).report.rebuilt
    assert embedder.images_seen == 0


def test_cache_dir_elsewhere_leaves_the_gallery_untouched(gallery, tmp_path):
    cache = tmp_path / "cache"
    index = GalleryIndex.build_or_load(
        gallery, CountingEmbedder(), cache_dir=cache, dimension=DIMENSION
    )
    assert not (gallery / CACHE_DIR_NAME).exists()
    assert (cache / "manifest.json").is_file()
    assert len(index) == 3


def test_damaged_cache_is_rebuilt(gallery):
    GalleryIndex.build_or_load(gallery, CountingEmbedder(), dimension=DIMENSION)
    (gallery / CACHE_DIR_NAME / "manifest.json").write_text("{ truncated")
    assert GalleryIndex.build_or_load(
        gallery, CountingEmbedder(), dimension=DIMENSION
    ).report.rebuilt


def test_bad_embedder_output_is_named(gallery):
    with pytest.raises(ValueError, match=r"embed_fn returned shape \(1, 5\)"):
        GalleryIndex.build_or_load(
            gallery, lambda images: np.ones((1, 5)), dimension=DIMENSION, batch_size=1
        )
    with pytest.raises(NotADirectoryError, match="missing"):
        GalleryIndex.build_or_load(gallery / "missing", CountingEmbedder())


def test_contact_sheet_of_results(gallery, tmp_path):
    embedder = CountingEmbedder()
    index = GalleryIndex.build_or_load(gallery, embedder, dimension=DIMENSION)
    query_path = gallery / "red.jpg"
    hits = index.search(embedder([query_path.read_bytes()]), k=3)[0]
    query = SheetCell(text="query: red.jpg", image=query_path)
    sheet = write_contact_sheet(
        tmp_path / "sheet.html", {"Image search": [(query, [hit.sheet_cell() for hit in hits])]}
    )
    page = sheet.read_text()
    assert page.count("data:image/jpeg;base64,") == 4
    assert "red.jpg" in page and "1.000" in page
