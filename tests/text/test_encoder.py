"""The caption-to-image encoding: hand-computed pixels, counts, and NumPy == TensorFlow."""

import numpy as np
import pytest
import tensorflow as tf

from fusion_tf import text

# Three words of six components: two RGB superpixels each. The range of every dimension is
# 0..10, so component c quantises to round(c * 25.5).
VOCABULARY = text.WordVectors(
    ["red", "dog", "runs"],
    np.array(
        [
            [10, 0, 0, 0, 10, 0],
            [0, 10, 0, 10, 0, 10],
            [2, 4, 10, 8, 6, 0],
        ],
        dtype=np.float32,
    ),
)
# Superpixels of 2 px, 2 across: a visual word is 4 x 2 px; with a 1 px separator the 11 px
# canvas holds (11 + 1) // 5 = 2 words across and (11 + 1) // 3 = 4 rows, 8 words in all.
LAYOUT = dict(canvas_size=11, superpixel_size=2, superpixels_per_row=2, separator=1)


def small_encoder():
    return text.TextImageEncoder(VOCABULARY, **LAYOUT)


def test_layout_capacity():
    encoder = small_encoder()
    assert (encoder.layout.columns, encoder.layout.rows, encoder.capacity) == (2, 4, 8)


def test_hand_computed_pixels():
    image = small_encoder().encode(["Red dog runs!"])[0]
    expected = np.zeros((11, 11, 3), np.uint8)
    red = [[255, 0, 0], [0, 255, 0]]
    dog = [[0, 255, 0], [255, 0, 255]]
    runs = [[51, 102, 255], [204, 153, 0]]
    for (top, left), superpixels in zip([(0, 0), (0, 5), (3, 0)], [red, dog, runs], strict=True):
        for index, colour in enumerate(superpixels):
            expected[top : top + 2, left + 2 * index : left + 2 * index + 2] = colour
    np.testing.assert_array_equal(image, expected)
    encoder = small_encoder()
    np.testing.assert_array_equal(encoder.encode_tf(tf.constant(["Red dog runs!"]))[0], expected)


def test_last_separator_past_the_canvas_edge_is_cut():
    # (9 + 1) // 5 = 2 words across; the second word's separator would fall at x = 9.
    encoder = text.TextImageEncoder(VOCABULARY, **{**LAYOUT, "canvas_size": 9})
    expected = encoder.encode(["red dog runs dog"])
    assert expected.shape == (1, 9, 9, 3) and expected[0, 0, 8].any()
    np.testing.assert_array_equal(encoder.encode_tf(tf.constant(["red dog runs dog"])), expected)


def test_out_of_vocabulary_words_are_skipped_and_counted():
    encoder = small_encoder()
    images, statistics = encoder.encode(["red cat dog"], return_statistics=True)
    np.testing.assert_array_equal(images, encoder.encode(["red dog"]))
    assert statistics.out_of_vocabulary_words == 1 and statistics.words == 3
    assert encoder.statistics.captions == 2 and encoder.statistics.words == 5


def test_words_past_capacity_are_dropped_and_counted():
    encoder = small_encoder()
    caption = " ".join(["dog"] * 8 + ["red"] * 3)
    images, statistics = encoder.encode([caption], return_statistics=True)
    np.testing.assert_array_equal(images, encoder.encode([" ".join(["dog"] * 8)]))
    assert statistics.dropped_words == 3
    tf_counts = encoder.tf_module.encode_with_statistics(tf.constant([caption]))
    assert tf_counts["dropped_words"].numpy().tolist() == [3]


@pytest.mark.parametrize("caption", ["", "   ", "?!", "cat mouse", "😀🐶"])
def test_captions_without_known_words_give_empty_canvases(caption):
    encoder = small_encoder()
    images, statistics = encoder.encode([caption], return_statistics=True)
    assert not images.any()
    assert statistics.empty_captions == 1
    assert encoder.tf_module.encode_with_statistics(tf.constant([caption]))["empty"].numpy()[0]


def test_empty_batch():
    assert small_encoder().encode([]).shape == (0, 11, 11, 3)


def test_non_ascii_and_emoji_captions_agree(tmp_path):
    vectors = text.WordVectors(
        ["café", "日本の", "straße", "dog"], np.arange(24, dtype=np.float32).reshape(4, 6)
    )
    encoder = text.TextImageEncoder(vectors, **LAYOUT)
    captions = ["Café 🐶dog", "STRASSE Straße", "日本の犬 dog", "dog\u200bdog"]
    expected = encoder.encode(captions)
    np.testing.assert_array_equal(encoder.encode_tf(tf.constant(captions)).numpy(), expected)
    assert expected[0].any() and expected[1].any()


def test_save_load_round_trip(tmp_path):
    encoder = small_encoder()
    encoder.save(tmp_path)
    loaded = text.TextImageEncoder.load(tmp_path)
    assert loaded.layout == encoder.layout
    captions = ["red dog runs", "runs runs"]
    np.testing.assert_array_equal(loaded.encode(captions), encoder.encode(captions))


def test_bad_layouts_are_rejected():
    with pytest.raises(ValueError, match="does not fit"):
        text.TextImageEncoder(VOCABULARY, canvas_size=3, superpixel_size=2)
    with pytest.raises(ValueError, match="separator"):
        text.TextImageEncoder(VOCABULARY, separator=-1)


@pytest.mark.parametrize(
    "dim, words, size, capacity",
    [
        (24, 23, 13, 36),  # the paper's layout holds a 99th-percentile Flickr caption
        (12, 23, 13, 68),
        (48, 23, 12, 25),  # 16 at 13 px
        (24, 40, 12, 45),
        (300, 23, 4, 28),  # a 300-d word is 100 superpixels, 25 rows of 4
    ],
)
def test_fitting_layout_has_the_largest_superpixels_that_hold_the_words(dim, words, size, capacity):
    layout = text.TextImageLayout.fitting(dim, words)
    assert (layout.superpixel_size, layout.capacity) == (size, capacity)
    if size < 13:  # one pixel more holds fewer words, or no visual word at all
        try:
            larger = text.TextImageLayout(dim=dim, superpixel_size=size + 1).capacity
        except ValueError:
            larger = 0
        assert larger < words


def test_fitting_layout_keeps_other_settings_and_names_what_cannot_fit():
    layout = text.TextImageLayout.fitting(24, 10, canvas_size=128, superpixel_size=8, separator=1)
    assert (layout.canvas_size, layout.separator, layout.superpixel_size) == (128, 1, 8)
    with pytest.raises(
        ValueError, match="no superpixel size holds 5000 words of 24-d vectors on a 128 px"
    ):
        text.TextImageLayout.fitting(24, 5000, canvas_size=128)


@pytest.fixture(scope="module")
def sample_captions_and_encoder(flickr8k_sample_dir):
    lines = (flickr8k_sample_dir / "Flickr8k.token.txt").read_text(encoding="utf-8").splitlines()
    captions = [line.split("\t", 1)[1] for line in lines]
    return captions, text.TextImageEncoder(text.train_word_vectors(captions, seed=0))


def test_numpy_and_tensorflow_identical_on_the_shared_sample(sample_captions_and_encoder):
    captions, encoder = sample_captions_and_encoder
    expected = encoder.encode(captions)
    assert expected.shape == (len(captions), 256, 256, 3) and expected.any()
    np.testing.assert_array_equal(encoder.encode_tf(tf.constant(captions)).numpy(), expected)

    # A fresh encoder, so its TensorFlow tables are first built while tf.data traces the map.
    fresh = text.TextImageEncoder(encoder.vectors)
    dataset = tf.data.Dataset.from_tensor_slices(captions).batch(500).map(fresh.encode_tf)
    mapped = np.concatenate([batch.numpy() for batch in dataset])
    np.testing.assert_array_equal(mapped, expected)


def test_default_layout_fits_the_99th_percentile_caption(sample_captions_and_encoder):
    captions, encoder = sample_captions_and_encoder
    lengths = [len(text.tokenize(caption)) for caption in captions]
    assert np.percentile(lengths, 99) <= encoder.capacity
    # A typical caption still covers a good share of the canvas.
    typical = encoder.encode([captions[int(np.argsort(lengths)[len(lengths) // 2])]])[0]
    assert typical.any(axis=-1).mean() > 0.15
