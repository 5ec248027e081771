"""Semantic text encoding: captions become images of their words' Word2Vec vectors."""

from fusion_tf.text.encoder import EncodingStatistics, TextImageEncoder
from fusion_tf.text.layout import TextImageLayout
from fusion_tf.text.tokenizer import tokenize, tokenize_tf
from fusion_tf.text.word_vectors import (
    DEFAULT_DIM,
    WordVectors,
    load_word2vec_format,
    train_word_vectors,
)

__all__ = [
    "DEFAULT_DIM",
    "EncodingStatistics",
    "TextImageEncoder",
    "TextImageLayout",
    "WordVectors",
    "load_word2vec_format",
    "tokenize",
    "tokenize_tf",
    "train_word_vectors",
]
