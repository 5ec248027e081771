"""Tests that the t-SNE figure and the retrieval examples are written as PNG and self-contained HTML."""

import cv2
import numpy as np
import pytest

from fusion_tf.evaluation.figures import plot_tsne, write_examples
from fusion_tf.image_formats import PNG_SIGNATURE


def _solid_image(color: tuple[int, int, int]) -> bytes:
    ok, encoded = cv2.imencode(".png", np.full((40, 60, 3), color, dtype=np.uint8))
    assert ok
    return encoded.tobytes()


def test_plot_tsne_writes_png(tmp_path):
    random = np.random.default_rng(0)
    images = random.normal(size=(12, 8))
    captions = np.repeat(images, 2, axis=0) + 0.1 * random.normal(size=(24, 8))
    path = plot_tsne(images, captions, tmp_path / "figures" / "tsne.png", max_iter=250)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    # Both colours are drawn: some pixels are mostly red, some mostly blue (BGR order).
    blue, green, red = (decoded[..., channel].astype(int) for channel in range(3))
    assert ((red > 150) & (blue < 120) & (green < 120)).any()
    assert ((blue > 150) & (red < 120) & (green < 120)).any()


def test_write_examples_marks_ground_truth(tmp_path):
    num_images = 6
    images = np.eye(num_images, 8)
    caption_to_image = np.repeat(np.arange(num_images), 2)
    captions = images[caption_to_image] + 0.05 * np.arange(12)[:, None] * np.roll(
        images[caption_to_image], 1, axis=1
    )
    texts = [[f"caption {j} of image {i} <b>" for j in range(2)] for i in range(num_images)]
    image_sources = [_solid_image((40 * i, 255 - 40 * i, 100)) for i in range(num_images)]
    # One image comes from a file, one is not decodable: the sheet must say so, not fail.
    image_file = tmp_path / "photo.png"
    image_file.write_bytes(image_sources[1])
    image_sources[1] = str(image_file)
    image_sources[2] = b"not an image"

    paths = write_examples(
        images,
        captions,
        caption_to_image,
        texts,
        image_sources,
        tmp_path / "examples",
        k=3,
        query_captions=[0, 5],
        query_images=[1, 2],
    )
    for key in ("text_to_image_png", "image_to_text_png"):
        assert paths[key].read_bytes().startswith(PNG_SIGNATURE)
    page = paths["html"].read_text()
    # Two caption queries with 3 images each, plus 2 query images: 8 image cells in all.
    thumbnails = page.count("data:image/jpeg;base64,")
    unreadable = page.count("(unreadable image)")
    assert thumbnails + unreadable == 2 * 3 + 2
    assert thumbnails >= 4 and unreadable >= 1
    assert "caption 0 of image 0 &lt;b&gt;" in page and "<b>" not in page
    # Each query's own image (or caption) ranks first here and is framed.
    assert page.count("cell highlighted") >= 4


def test_write_examples_rejects_missing_images(tmp_path):
    with pytest.raises(ValueError, match="got 1 images for 2 image embeddings"):
        write_examples(np.eye(2), np.eye(2), np.arange(2), [["a"], ["b"]], [b""], tmp_path)
