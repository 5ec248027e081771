"""Embeds a built split's photos and captions with a model, for Recall@K in training and evaluation."""

import numpy as np
import tensorflow as tf

from fusion_tf.data import pipeline


def embed_split(
    model, data_dir: str, split: str, pipeline_config: pipeline.PipelineConfig
) -> dict[str, np.ndarray]:
    """Embeddings of a split's photos and captions, with each caption's image index and text."""
    embed_photos = tf.function(model.embed_photos, reduce_retracing=True)
    embed_captions = tf.function(model.embed_captions, reduce_retracing=True)
    photos, captions, caption_to_image, texts = [], [], [], []
    for batch in pipeline.evaluation_photos(data_dir, split, pipeline_config):
        photos.append(embed_photos(batch["images"]).numpy())
    for batch in pipeline.evaluation_captions(data_dir, split, pipeline_config):
        captions.append(embed_captions(batch["images"]).numpy())
        caption_to_image.append(batch["image_index"].numpy())
        texts.extend(text.decode("utf-8") for text in batch["text"].numpy())
    return {
        "photos": np.concatenate(photos),
        "captions": np.concatenate(captions),
        "caption_to_image": np.concatenate(caption_to_image).astype(np.int64),
        "texts": np.array(texts, dtype=object),
    }
