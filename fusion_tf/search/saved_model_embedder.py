"""Embedding functions backed by an exported SavedModel, for the gallery and caption indexes."""

import dataclasses
import pathlib

import numpy as np
import tensorflow as tf

from fusion_tf.text.tokenizer import tokenize


@dataclasses.dataclass
class SavedModelEmbedder:
    """The export's `embed_image` and `embed_text` as plain NumPy functions.

    Args:
        export_dir: path. A SavedModel written by fusion_tf.export.
    """

    export_dir: str

    def __post_init__(self):
        path = pathlib.Path(self.export_dir)
        if not (path / "saved_model.pb").is_file():
            raise FileNotFoundError(
                f"{path} is not a SavedModel: export one with fusion-export --model_dir=RUN"
            )
        loaded = tf.saved_model.load(str(path))
        self._embed_image = loaded.signatures["embed_image"]
        self._embed_text = loaded.signatures["embed_text"]
        # The caption vocabulary the export saved (FusionServingModule.caption_encoder), to name
        # the words a query loses; the signatures only count them.
        self._vocabulary = loaded.caption_encoder.table
        # Names the model behind the embeddings, so cached indexes are rebuilt after a re-export.
        self.embedder_id = f"{path.resolve()}@{(path / 'saved_model.pb').stat().st_mtime_ns}"

    def images(self, encoded: list[bytes], zeros_for_refused: bool = False) -> np.ndarray:
        """(n, 128) embeddings of encoded images.

        Images the model refuses (undecodable, a format it cannot read, too many pixels) raise,
        naming their positions; with zeros_for_refused they get an all-zero row instead, which
        GalleryIndex skips and lists.
        """
        outputs = self._embed_image(images=tf.constant(encoded, tf.string))
        invalid = np.flatnonzero(~outputs["valid"].numpy())
        if len(invalid) and not zeros_for_refused:
            raise ValueError(
                f"image(s) at batch position(s) {invalid.tolist()} could not be decoded"
            )
        return outputs["embeddings"].numpy()

    def captions(self, texts: list[str]) -> np.ndarray:
        """(n, 128) embeddings of raw caption strings."""
        return self._embed_text(captions=tf.constant(texts, tf.string))["embeddings"].numpy()

    def caption_outputs(self, texts: list[str]) -> dict[str, np.ndarray]:
        """`embeddings` (n, 128) of raw captions and, per caption, the words placed
        (`words_used`), out of vocabulary and dropped, to report what was ignored."""
        outputs = self._embed_text(captions=tf.constant(texts, tf.string))
        return {name: tensor.numpy() for name, tensor in outputs.items()}

    def out_of_vocabulary_words(self, text: str) -> list[str]:
        """The words of `text`, tokenised as the model does, that are not in its vocabulary."""
        words = tokenize(text)
        if not words:
            return []
        # A restored table has no lookup method; the op it would call reads it by its handle.
        ids = tf.raw_ops.LookupTableFindV2(
            table_handle=self._vocabulary.resource_handle,
            keys=tf.constant(words, tf.string),
            default_value=tf.constant(-1, tf.int64),
        ).numpy()
        return [word for word, word_id in zip(words, ids, strict=True) if word_id < 0]
