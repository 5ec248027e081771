"""The LiteRT (TFLite) embedders against the network and the SavedModel: cosine, Recall@K, ops, sizes.

The fast test converts an untrained tiny model's caption-canvas embedder and compares it with
the network on synthetic captions. The slow ones export the tiny trained model both ways with
an encoder for the Flickr8k sample's words (they skip without the sample): the LiteRT photo
embedder is fed the pixels the SavedModel computes from the same photo (the builder's stored
JPEG, decoded and resized by the pipeline), so the comparison is of the converted network; the
canvas embedder gets the encoded captions. The files run on ai-edge-litert's interpreter. The
string embedder needs the Select TF ops, which neither that interpreter nor TensorFlow's links,
so it is checked for its operators only.
"""

import json
import sys

import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.data import pipeline
from fusion_tf.evaluation.recall import recall_at_k
from fusion_tf.export import StoredImageSettings, export_model, stored_jpeg
from fusion_tf.export.tflite import (
    SELECT_TF_OP_PREFIX,
    TFLITE_INFO_FILE,
    LiteEmbedders,
    convert,
    export_tflite,
    operators,
    signature_runner,
)
from fusion_tf.models.fusion_model import FusionModel
from fusion_tf.text import TextImageEncoder, WordVectors

FLOAT32_COSINE = 0.9999
# int8 weights move the embedding; the tiny model's scores are too close together for its
# ranking to survive that exactly, so int8 is held to a cosine only.
INT8_COSINE = 0.99
SCORE_NOISE = 1e-5  # float32 score differences between two kernel libraries summing in other orders
NETWORK_FILES = ("photo_embedder", "caption_image_embedder")  # the ones Python can run


def cosine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.sum(first * second, axis=1) / (
        np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)
    )


def run_lite(flat_buffer: bytes, **inputs) -> np.ndarray:
    return signature_runner(flat_buffer)(**inputs)["embeddings"]


# The second case resizes captions inside the model (a caption backbone at a smaller side).
@pytest.mark.parametrize(
    "image_size, towers, caption_image_size", [(75, "single", None), (80, "separate", 75)]
)
def test_caption_image_embedder_matches_the_network_with_builtin_ops_only(
    tmp_path, image_size, towers, caption_image_size
):
    words = ["a", "dog", "runs", "on", "the", "beach", "red", "ball"]
    encoder = TextImageEncoder(WordVectors(words, np.random.default_rng(0).normal(size=(8, 24))))
    model = FusionModel(
        num_classes=3,
        image_size=image_size,
        preset="tiny",
        towers=towers,
        caption_image_size=caption_image_size,
    )
    canvases = encoder.encode(["a dog runs on the beach", "the red ball", "a ball", "snow"])
    flat_buffer = convert(
        LiteEmbedders(model, encoder, "fixed"), "caption_image_embedder", "float32"
    )
    expected = model.embed_captions(
        pipeline.standardize(pipeline.resize(tf.constant(canvases), image_size), "fixed")
    ).numpy()
    from_bytes = run_lite(flat_buffer, canvases=canvases)
    assert cosine(from_bytes, expected).min() >= FLOAT32_COSINE
    assert not [name for name in operators(flat_buffer) if name.startswith(SELECT_TF_OP_PREFIX)]
    path = tmp_path / "caption_image_embedder.tflite"
    path.write_bytes(flat_buffer)
    np.testing.assert_array_equal(
        signature_runner(path)(canvases=canvases)["embeddings"], from_bytes
    )


def test_running_a_file_without_ai_edge_litert_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails
    with pytest.raises(ImportError, match=r"pip install 'fusion-tf\[litert\]'"):
        signature_runner(b"not read")


@pytest.fixture(scope="module")
def embeddings(tmp_path_factory, restored_model, sample_encoder, sample_photos):
    """SavedModel and LiteRT embeddings of the sample's photos and captions, by variant."""
    root = tmp_path_factory.mktemp("tflite")
    saved = tf.saved_model.load(str(export_model(restored_model, sample_encoder, root / "saved")))
    files = export_tflite(restored_model, sample_encoder, root / "lite")
    pixels = np.stack(
        [
            pipeline.decode_image(
                stored_jpeg(photo, StoredImageSettings()), restored_model.image_size
            )
            for photo in sample_photos.encoded
        ]
    ).astype(np.float32)
    captions = tf.constant(sample_photos.captions)
    result = {
        "saved_photos": saved.signatures["embed_image"](images=tf.constant(sample_photos.encoded))[
            "embeddings"
        ].numpy(),
        "saved_captions": saved.signatures["embed_text"](captions=captions)["embeddings"].numpy(),
        "files": files,
        "info": json.loads((root / "lite" / TFLITE_INFO_FILE).read_text()),
    }
    for suffix in ("", "_int8"):
        result[f"photos{suffix}"] = run_lite(
            files[f"photo_embedder{suffix}"].read_bytes(), pixels=pixels
        )
        result[f"captions{suffix}"] = run_lite(
            files[f"caption_image_embedder{suffix}"].read_bytes(),
            canvases=sample_encoder.encode(sample_photos.captions),
        )
    return result


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["photos", "captions"])
def test_float32_embeddings_match_the_saved_model(embeddings, kind):
    assert cosine(embeddings[kind], embeddings[f"saved_{kind}"]).min() >= FLOAT32_COSINE


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["photos", "captions"])
def test_int8_embeddings_stay_close(embeddings, kind):
    assert cosine(embeddings[f"{kind}_int8"], embeddings[f"saved_{kind}"]).min() >= INT8_COSINE


@pytest.mark.slow
def test_float32_scores_and_recall_at_k_agree(embeddings, sample_photos):
    """Every caption-photo score within SCORE_NOISE; Recall@K moved by no more than one query.

    Identical Recall@K is not reachable with the tiny test model (3 steps on coloured squares):
    its scores of one caption against the 40 real photos span a median 5e-4, neighbours lie a
    median 4e-6 apart and some tie exactly, while LiteRT's kernels sum in another order than
    TensorFlow's (8e-7 apart). So ties and near-ties may swap; no ranking decided by more than
    twice SCORE_NOISE can.
    """
    saved_scores = embeddings["saved_captions"] @ embeddings["saved_photos"].T
    lite_scores = embeddings["captions"] @ embeddings["photos"].T
    assert np.abs(saved_scores - lite_scores).max() < SCORE_NOISE
    caption_to_image = sample_photos.caption_to_image
    saved = recall_at_k(embeddings["saved_photos"], embeddings["saved_captions"], caption_to_image)
    lite = recall_at_k(embeddings["photos"], embeddings["captions"], caption_to_image)
    one_query = {"i2t": 100 / len(sample_photos.encoded), "t2i": 100 / len(caption_to_image)}
    for key, value in saved.items():
        if key.startswith(("i2t_r", "t2i_r")):
            assert abs(lite[key] - value) <= one_query[key[:3]] + 1e-9, key


@pytest.mark.slow
def test_only_the_string_embedder_needs_select_tf_ops(embeddings):
    files = embeddings["info"]["files"]
    for name in NETWORK_FILES:
        assert files[name]["select_tf_ops"] == [] == files[f"{name}_int8"]["select_tf_ops"]
    # Tokenising (regular expressions, lower case, splitting) has no LiteRT builtin.
    assert {"FlexStaticRegexReplace", "FlexStringLower", "FlexStringSplitV2"} <= set(
        files["caption_embedder"]["select_tf_ops"]
    )


@pytest.mark.slow
def test_int8_shrinks_the_network_weights_alone(embeddings):
    """Dynamic-range quantisation stores float weights as int8; the caption tables stay as they are.

    So every file loses about the same bytes, those of the network's weights: the string
    embedder's vocabulary and uint8 visual words are not float and do not shrink.
    """
    sizes = {stem: path.stat().st_size for stem, path in embeddings["files"].items()}
    network_saving = sizes["photo_embedder"] - sizes["photo_embedder_int8"]
    assert sizes["photo_embedder_int8"] < 0.35 * sizes["photo_embedder"]
    for name in ("caption_image_embedder", "caption_embedder"):
        saving = sizes[name] - sizes[f"{name}_int8"]
        assert abs(saving - network_saving) < 0.05 * network_saving, name
        assert embeddings["info"]["files"][name]["bytes"] == sizes[name]
