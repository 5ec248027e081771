"""Export test fixtures: the restored tiny model, Flickr8k sample photos and captions, EXIF JPEGs."""

import collections
import dataclasses
import struct

import cv2
import numpy as np
import pytest

from fusion_tf.text import TextImageEncoder, WordVectors, tokenize

NUM_AREA, NUM_LINEAR, NUM_MIXED, NUM_STORED = 14, 16, 2, 8  # the sample has 2 mixed photos


@dataclasses.dataclass
class SamplePhotos:
    """Photos as encoded bytes with their captions; `kinds` says how the builder resizes each."""

    names: list[str]
    encoded: list[bytes]
    kinds: list[str]
    captions: list[str]
    caption_to_image: np.ndarray


@pytest.fixture(scope="session")
def restored_model(tiny_run):
    from fusion_tf.training.run_folder import restore_model

    return restore_model(str(tiny_run), "best")


def _read_tokens(path) -> dict[str, list[str]]:
    captions = collections.defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            key, caption = line.split("\t", 1)
            captions[key.split("#")[0]].append(caption)
    return captions


@pytest.fixture(scope="session")
def sample_photos(flickr8k_sample_dir) -> SamplePhotos:
    """40 photos of the Flickr8k sample: shrunk by area, enlarged (linear), mixed, and stored.

    "stored" photos are already the builder's 256 x 256 JPEG (made with its to_jpeg).
    """
    from tfrecords_builder.images import to_jpeg

    tokens = _read_tokens(flickr8k_sample_dir / "Flickr8k.token.txt")
    quotas = {"area": NUM_AREA, "linear": NUM_LINEAR, "mixed": NUM_MIXED, "stored": NUM_STORED}
    names, encoded, kinds = [], [], []
    for path in sorted((flickr8k_sample_dir / "images").glob("*.jpg")):
        data = path.read_bytes()
        height, width = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape[:2]
        if height >= 256 and width >= 256:
            kind = "area" if quotas["area"] else "stored"
        else:
            kind = "mixed" if height >= 256 or width >= 256 else "linear"
        if quotas[kind] == 0:
            continue
        quotas[kind] -= 1
        names.append(path.name)
        encoded.append(to_jpeg(data, 256, 95, 10**8) if kind == "stored" else data)
        kinds.append(kind)
        if not any(quotas.values()):
            break
    assert not any(quotas.values()), f"the sample lacks photos of some kinds: {quotas}"
    captions, caption_to_image = [], []
    for index, name in enumerate(names):
        captions.extend(tokens[name])
        caption_to_image.extend([index] * len(tokens[name]))
    return SamplePhotos(names, encoded, kinds, captions, np.array(caption_to_image))


@pytest.fixture(scope="session")
def sample_encoder(sample_photos) -> TextImageEncoder:
    """An encoder for the sample's captions: words seen twice or more, random 24-d vectors.

    Words seen once stay out of the vocabulary, so real captions have unknown words too.
    """
    counts = collections.Counter(
        word for caption in sample_photos.captions for word in tokenize(caption)
    )
    words = sorted(word for word, count in counts.items() if count >= 2)
    vectors = np.random.default_rng(0).normal(size=(len(words), 24))
    return TextImageEncoder(WordVectors(words, vectors))


@pytest.fixture(scope="session")
def jpeg_with_orientation():
    """jpeg_with_orientation(jpeg, orientation, little_endian) inserts an EXIF APP1 after APP0."""

    def insert(jpeg: bytes, orientation: int, little_endian: bool = True) -> bytes:
        order = "<" if little_endian else ">"
        tiff = (b"II*\x00" if little_endian else b"MM\x00*") + struct.pack(order + "IH", 8, 2)
        # Two entries, the orientation second, as cameras write a make tag before it.
        tiff += struct.pack(order + "HHI", 0x010F, 2, 4) + b"cam\x00"
        tiff += struct.pack(order + "HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(
            order + "I", 0
        )
        payload = b"Exif\x00\x00" + tiff
        segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
        after_app0 = 4 + struct.unpack(">H", jpeg[4:6])[0]
        return jpeg[:after_app0] + segment + jpeg[after_app0:]

    return insert
