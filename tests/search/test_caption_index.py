"""Tests for CaptionIndex: reading a caption file, search, cache reuse and rebuild, bad text."""

import numpy as np
import pytest

from fusion_tf.search.caption_index import CaptionIndex

WORDS = ["dog", "cat", "grass", "beach", "bike", "man"]


class BagOfWordsEmbedder:
    """Embeds a caption as counts of WORDS (plus a constant) and counts the captions seen."""

    def __init__(self):
        self.captions_seen = 0

    def __call__(self, captions):
        self.captions_seen += len(captions)
        return np.array(
            [
                [caption.lower().split().count(word) for word in WORDS] + [0.1]
                for caption in captions
            ],
            dtype=np.float32,
        )


@pytest.fixture
def captions_file(tmp_path):
    path = tmp_path / "captions.txt"
    path.write_text(
        "a dog on the grass\n\n  a cat on a bike  \nA man on the beach\n", encoding="utf-8"
    )
    return path


def test_build_skips_blank_lines_and_finds_the_closest_caption(captions_file):
    embedder = BagOfWordsEmbedder()
    index = CaptionIndex.build_or_load(captions_file, embedder, dimension=len(WORDS) + 1)
    assert index.rebuilt and embedder.captions_seen == 3
    assert index.captions == ["a dog on the grass", "a cat on a bike", "A man on the beach"]
    assert index.line_numbers == [1, 3, 4]
    hits = index.search(embedder(["dog grass"]), k=2)[0]
    assert (hits[0].text, hits[0].line_number) == ("a dog on the grass", 1)
    assert hits[0].score > hits[1].score
    assert (captions_file.parent / ".fusion_index" / "captions.txt" / "manifest.json").is_file()


def test_cache_is_reused_until_the_text_changes(captions_file):
    options = {"dimension": len(WORDS) + 1}
    CaptionIndex.build_or_load(captions_file, BagOfWordsEmbedder(), **options)
    embedder = BagOfWordsEmbedder()
    cached = CaptionIndex.build_or_load(captions_file, embedder, **options)
    assert not cached.rebuilt and embedder.captions_seen == 0
    assert len(cached) == 3
    captions_file.write_text("a dog on the beach\n", encoding="utf-8")
    changed = CaptionIndex.build_or_load(captions_file, embedder, **options)
    assert changed.rebuilt and changed.captions == ["a dog on the beach"]
    assert CaptionIndex.build_or_load(captions_file, embedder, embedder_id="v2", **options).rebuilt


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine\n\xff\xfe broken\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: not valid UTF-8"):
        CaptionIndex.build_or_load(path, BagOfWordsEmbedder(), dimension=len(WORDS) + 1)
