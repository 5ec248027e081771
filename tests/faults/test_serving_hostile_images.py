"""embed_image and embed_text on hostile input: sizes from headers, scaled or refused, bounded per request."""

import io
import struct

import cv2
import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.export import FusionServingModule, ServingLimits
from fusion_tf.export.stored_jpeg import decode_like_opencv
from fusion_tf.models.fusion_model import FusionModel
from fusion_tf.text import TextImageEncoder, WordVectors

WORDS = ["a", "dog", "cat", "runs", "on", "the", "grass", "beach"]


def _encoded(extension: str, height: int, width: int, seed: int = 0) -> bytes:
    small = np.random.default_rng(seed).integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return cv2.imencode(extension, cv2.resize(small, (width, height)))[1].tobytes()


def _jpeg_declaring(height: int, width: int) -> bytes:
    """A small valid JPEG whose frame header is rewritten to declare height x width."""
    jpeg = _encoded(".jpg", 16, 16)
    frame = jpeg.index(b"\xff\xc0")
    return jpeg[: frame + 5] + struct.pack(">HH", height, width) + jpeg[frame + 9 :]


def _animated_gif(frames: int, height: int, width: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(1)
    images = [
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        for _ in range(frames)
    ]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tight_module():
    """The tiny model served with small limits: 1,000 decoded pixels an image, 2,500 a request."""
    model = FusionModel(num_classes=3, image_size=75, preset="tiny")
    vectors = np.random.default_rng(0).normal(size=(len(WORDS), 24))
    encoder = TextImageEncoder(WordVectors(WORDS, vectors))
    limits = ServingLimits(max_decoded_pixels=1000, max_request_pixels=2500, chunk_size=4)
    return FusionServingModule(model, encoder, limits=limits)


@pytest.mark.slow
def test_sizes_come_from_headers_and_the_request_budget_holds(tight_module):
    images = {
        # 40 x 40 = 1,600 pixels: a JPEG is decoded at half scale (400), the others refused.
        "jpeg scaled": (_encoded(".jpg", 40, 40), True),
        "png too large": (_encoded(".png", 40, 40), False),
        "bmp too large": (_encoded(".bmp", 40, 40), False),
        "webp too large": (_encoded(".webp", 40, 40), False),
        "gif screen too large": (_animated_gif(2, 40, 40), False),
        # 10 KB declaring 10000 x 10000: libjpeg would fill the missing data with grey.
        "jpeg header bomb": (_jpeg_declaring(10000, 10000), False),
        "tiff": (_encoded(".tiff", 20, 20), False),
        "small png": (_encoded(".png", 30, 30), True),  # 900, total 1,300
        "animated gif": (_animated_gif(3, 20, 20), True),  # 400, total 1,700
        "small bmp": (_encoded(".bmp", 25, 25), True),  # 625, total 2,325
        "over the request budget": (_encoded(".png", 20, 20), False),  # 400, total 2,725
    }
    outputs = tight_module.embed_image(tf.constant([data for data, _ in images.values()]))
    valid = dict(zip(images, outputs["valid"].numpy().tolist(), strict=True))
    assert valid == {name: expected for name, (_, expected) in images.items()}
    embeddings = outputs["embeddings"].numpy()
    expected_valid = np.array([expected for _, expected in images.values()])
    assert not embeddings[~expected_valid].any()
    np.testing.assert_allclose(np.linalg.norm(embeddings[expected_valid], axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_only_the_first_gif_frame_is_decoded():
    gif = _animated_gif(5, 30, 40)
    first = tf.function(lambda data: decode_like_opencv(data, 10**8, 10**6))(tf.constant(gif))
    every = tf.io.decode_gif(gif).numpy()
    assert every.shape[0] == 5
    np.testing.assert_array_equal(first.numpy(), every[0])


@pytest.mark.slow
def test_gif_image_larger_than_its_screen_is_refused_undecoded():
    # decode_gif decodes the image at its own size, which only the check after decoding refused:
    # a 16 x 16 screen with a 16000 x 16000 image (190 KB) took 1 GB. Here 64 x 64 on 16 x 16,
    # refused by the walk to the first frame's end, before decoding.
    gif = bytearray(_animated_gif(1, 64, 64))
    gif[6:10] = struct.pack("<HH", 16, 16)
    decode = tf.function(lambda data: decode_like_opencv(data, 10**8, 10**6))
    with pytest.raises(tf.errors.InvalidArgumentError, match="larger than its logical screen"):
        decode(tf.constant(bytes(gif)))
    assert decode(tf.constant(_animated_gif(1, 64, 64))).shape == (64, 64, 3)


@pytest.mark.slow
def test_progressive_jpeg_over_the_decode_limit_is_refused_not_scaled():
    # libjpeg keeps a progressive JPEG's full-size coefficients at any scale: a 0.9 MB one of
    # 10000 x 10000 took 307 MB at 1/4. 40 x 40 = 1,600 pixels against a limit of 1,000.
    photo = cv2.resize(np.random.default_rng(2).integers(0, 256, (4, 4, 3), np.uint8), (40, 40))
    sequential = cv2.imencode(".jpg", photo)[1].tobytes()
    progressive = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    decode = tf.function(lambda data: decode_like_opencv(data, 10**8, 1000))
    assert decode(tf.constant(sequential)).shape == (20, 20, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_decoded_pixels=1000"):
        decode(tf.constant(progressive))
    assert decode_like_opencv(tf.constant(progressive), 10**8, 1600).shape == (40, 40, 3)


@pytest.mark.slow
def test_captions_in_chunks_match_one_at_a_time(tight_module):
    captions = [f"a dog runs on the {WORDS[i % len(WORDS)]} " * (i % 3 + 1) for i in range(11)]
    together = tight_module.embed_text(tf.constant(captions))
    one_by_one = [tight_module.embed_text(tf.constant([caption])) for caption in captions]
    for name, values in together.items():
        expected = np.concatenate([outputs[name].numpy() for outputs in one_by_one])
        np.testing.assert_allclose(values.numpy(), expected, rtol=0, atol=1e-5, err_msg=name)
    empty = tight_module.embed_text(tf.constant([], tf.string))
    assert empty["embeddings"].shape == (0, 128) and empty["words_used"].shape == (0,)
