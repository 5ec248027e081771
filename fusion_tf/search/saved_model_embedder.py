"""Embedding functions backed by an exported SavedModel, for the gallery and caption indexes."""

import dataclasses
import pathlib

import numpy as np
import tensorflow as tf


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

    def caption_word_counts(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Per caption: words placed, out of vocabulary and dropped, to report what was ignored."""
        outputs = self._embed_text(captions=tf.constant(texts, tf.string))
        return {
            name: outputs[name].numpy()
            for name in ("words_used", "out_of_vocabulary_words", "dropped_words")
        }
