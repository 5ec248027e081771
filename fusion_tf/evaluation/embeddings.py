"""Embeds a built split's photos and captions with a model, for Recall@K in training and evaluation."""

import weakref

import numpy as np
import tensorflow as tf

from fusion_tf.data import pipeline, schema

# One compiled pair of embedding functions per model: validation runs every epoch, and a fresh
# tf.function each time would retrace the whole network.
_COMPILED = weakref.WeakKeyDictionary()


def _compiled(model):
    if model not in _COMPILED:
        _COMPILED[model] = (
            tf.function(model.embed_photos, reduce_retracing=True),
            tf.function(model.embed_captions, reduce_retracing=True),
        )
    return _COMPILED[model]


def embed_split(
    model,
    data_dir: str,
    split: str,
    pipeline_config: pipeline.PipelineConfig,
    first_images: int | None = None,
) -> dict[str, np.ndarray]:
    """Embeddings of a split's photos and captions, with each caption's image index and text.

    With `first_images`, of that many of the split's first photos and their captions only.
    """
    embed_photos, embed_captions = _compiled(model)
    photos, captions, caption_to_image, texts = [], [], [], []
    for batch in pipeline.evaluation_photos(
        data_dir, split, pipeline_config, first_images=first_images
    ):
        photos.append(embed_photos(batch["images"]).numpy())
    for batch in pipeline.evaluation_captions(
        data_dir, split, pipeline_config, first_images=first_images
    ):
        captions.append(embed_captions(batch["images"]).numpy())
        caption_to_image.append(batch["image_index"].numpy())
        texts.extend(text.decode("utf-8") for text in batch["text"].numpy())
    return {
        "photos": np.concatenate(photos),
        "captions": np.concatenate(captions),
        "caption_to_image": np.concatenate(caption_to_image).astype(np.int64),
        "texts": np.array(texts, dtype=object),
    }


def embed_split_with_saved_model(
    saved_model_dir: str,
    data_dir: str,
    split: str,
    batch_size: int = 64,
    first_images: int | None = None,
) -> dict[str, np.ndarray]:
    """The same embeddings through an exported SavedModel, fed stored JPEG bytes and raw captions.

    This is the serving path end to end (decoding, caption encoding and standardisation inside the
    SavedModel), so its Recall@K checks the export against `embed_split`. `first_images` as there.
    """
    loaded = tf.saved_model.load(saved_model_dir)
    embed_image, embed_text = loaded.signatures["embed_image"], loaded.signatures["embed_text"]
    records = pipeline.ordered_records(data_dir, split, first_images)
    photos, captions, caption_to_image, texts = [], [], [], []
    for batch in records.batch(batch_size):
        photos.append(embed_image(images=batch[schema.IMAGE])["embeddings"].numpy())
    for index, example in enumerate(records):
        image_texts = example[schema.CAPTION_TEXT][: pipeline.EVALUATION_CAPTIONS_PER_IMAGE]
        captions.append(embed_text(captions=image_texts)["embeddings"].numpy())
        caption_to_image.extend([index] * len(image_texts))
        texts.extend(text.decode("utf-8") for text in image_texts.numpy())
    return {
        "photos": np.concatenate(photos),
        "captions": np.concatenate(captions),
        "caption_to_image": np.array(caption_to_image, dtype=np.int64),
        "texts": np.array(texts, dtype=object),
    }
