"""The one caption tokeniser, in Python and as TensorFlow ops, used for vocabulary, encoding and export.

A caption is lower-cased with Unicode's full lower-case mapping (Python's ``str.lower`` and
``tf.strings.lower(..., encoding="utf-8")`` agree, including "İ" and final sigma), then split into
words: a word is a maximal run of Unicode letters, combining marks and digits (``\\p{L}\\p{M}\\p{N}``).
Everything else (spaces, punctuation, symbols, emoji, underscores) separates words and is dropped,
so "A dog's ball!" becomes ["a", "dog", "s", "ball"]; a NUL byte is a separator like any other
("a\\0and" gives ["a", "and"]). Invalid UTF-8 bytes are replaced by U+FFFD, which is not a word
character, before splitting.
"""

from typing import TYPE_CHECKING

import regex

if TYPE_CHECKING:
    import tensorflow as tf

WORD_CHARACTERS = r"\p{L}\p{M}\p{N}"
_WORD_PATTERN = regex.compile(f"[{WORD_CHARACTERS}]+")
_SEPARATOR_PATTERN = f"[^{WORD_CHARACTERS}]+"


def tokenize(caption: str | bytes) -> list[str]:
    """Splits one caption into lower-cased words, dropping punctuation, symbols and emoji."""
    if isinstance(caption, bytes):
        caption = caption.decode("utf-8", errors="replace")
    return _WORD_PATTERN.findall(caption.lower())


def tokenize_tf(captions: "tf.Tensor") -> "tf.RaggedTensor":
    """The same tokeniser as TensorFlow ops: a 1-D string tensor to a ragged (batch, words) tensor."""
    # Imported here so that NumPy-only users (the builder's workers) never load TensorFlow.
    import tensorflow as tf

    captions = tf.strings.unicode_transcode(
        captions, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
    )
    # tf.strings.lower ends a string at its first NUL byte; NUL separates words anyway.
    captions = tf.strings.regex_replace(captions, "\\x00", " ")
    lowered = tf.strings.lower(captions, encoding="utf-8")
    spaced = tf.strings.regex_replace(lowered, _SEPARATOR_PATTERN, " ")
    return tf.strings.split(spaced)
