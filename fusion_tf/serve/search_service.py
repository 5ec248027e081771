"""What the web app answers, without HTTP: text and photo queries against a gallery and captions."""

import dataclasses
import logging
import os

import cv2

from fusion_tf.evaluation.contact_sheet import load_thumbnail
from fusion_tf.search.caption_index import CaptionIndex
from fusion_tf.search.gallery_index import GalleryIndex
from fusion_tf.search.saved_model_embedder import SavedModelEmbedder

logger = logging.getLogger(__name__)

MAX_RESULTS = 100
MAX_QUERY_CHARACTERS = 1000
THUMBNAIL_SIZE = 256
IMAGE_FORMATS = "JPEG, PNG, GIF, BMP or WebP"


class QueryError(ValueError):
    """A request the service cannot answer; the message says what to do, status is the HTTP code.

    Args:
        message: str. Shown to the user as it is.
        status: int. The HTTP status of the answer. Defaults to 400.
    """

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclasses.dataclass
class SearchService:
    """A SavedModel's embeddings searched against a gallery index and, optionally, captions.

    Photos are named to clients by their row in the gallery index (`id`) and their path relative
    to the gallery; a file is only ever read through its id, never through a path a client sent.

    Args:
        embedder: SavedModelEmbedder. The exported model.
        gallery: GalleryIndex. The photos searched by text and by photo.
        captions: CaptionIndex or None. The captions searched by photo. Defaults to None.
    """

    embedder: SavedModelEmbedder
    gallery: GalleryIndex
    captions: CaptionIndex | None = None

    @classmethod
    def load(
        cls,
        saved_model: str | os.PathLike,
        gallery_dir: str | os.PathLike,
        captions_path: str | os.PathLike | None = None,
    ) -> "SearchService":
        """Loads the export and builds (or reads the cached) gallery and caption indexes."""
        embedder = SavedModelEmbedder(str(saved_model))
        gallery = GalleryIndex.build_or_load(
            gallery_dir, embedder.images, embedder_id=embedder.embedder_id
        )
        logger.info(gallery.report.summary())
        captions = None
        if captions_path is not None:
            captions = CaptionIndex.build_or_load(
                captions_path, embedder.captions, embedder_id=embedder.embedder_id
            )
            logger.info("%s: %d captions indexed", captions_path, len(captions))
        return cls(embedder, gallery, captions)

    def health(self) -> dict:
        """What is being served: counts of photos and captions."""
        return {
            "status": "ok",
            "gallery_images": len(self.gallery),
            "captions": len(self.captions) if self.captions is not None else 0,
        }

    def search_text(self, query: str, k: int) -> dict:
        """The k gallery photos nearest a caption, with the words the model could not use."""
        k = _checked_k(k)
        query = query.strip()
        if not query:
            raise QueryError("the query is empty: type a few words, e.g. 'a dog runs on the beach'")
        if len(query) > MAX_QUERY_CHARACTERS:
            raise QueryError(
                f"the query has {len(query)} characters; shorten it to {MAX_QUERY_CHARACTERS} "
                "or fewer (the model reads at most a few dozen words)"
            )
        outputs = self.embedder.caption_outputs([query])
        return {
            "query": query,
            "words_used": int(outputs["words_used"][0]),
            "out_of_vocabulary": self.embedder.out_of_vocabulary_words(query),
            "dropped_words": int(outputs["dropped_words"][0]),
            "images": self._photos(outputs["embeddings"], k),
        }

    def search_image(self, encoded: bytes, k: int, filename: str = "the upload") -> dict:
        """The k captions (when served) and gallery photos nearest an encoded photo."""
        k = _checked_k(k)
        if not encoded:
            raise QueryError(f"{filename} is empty: choose a photo ({IMAGE_FORMATS})")
        try:
            embeddings = self.embedder.images([encoded])
        except ValueError:
            raise QueryError(
                f"{filename} is not an image the model can read: upload a {IMAGE_FORMATS} photo"
            ) from None
        captions = []
        if self.captions is not None and len(self.captions):
            hits = self.captions.search(embeddings, min(k, len(self.captions)))[0]
            captions = [
                {"text": hit.text, "line": hit.line_number, "score": round(hit.score, 4)}
                for hit in hits
            ]
        return {"captions": captions, "images": self._photos(embeddings, k)}

    def thumbnail(self, image_id: int) -> bytes:
        """A JPEG of the gallery photo at row `image_id`, shrunk to fit THUMBNAIL_SIZE."""
        if not 0 <= image_id < len(self.gallery):
            raise QueryError(f"no gallery photo has id {image_id}", status=404)
        thumbnail = load_thumbnail(self.gallery.paths[image_id], THUMBNAIL_SIZE)
        if thumbnail is None:
            raise QueryError(
                f"gallery photo {image_id} can no longer be read: restart the server to re-index",
                status=404,
            )
        bgr = cv2.cvtColor(thumbnail, cv2.COLOR_RGB2BGR)
        return cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()

    def _photos(self, embeddings, k: int) -> list[dict]:
        if not len(self.gallery):
            return []
        rows = self.gallery.index.search(embeddings, min(k, len(self.gallery))).hits()[0]
        return [
            {
                "id": int(row),
                "name": self.gallery.paths[row].relative_to(self.gallery.gallery_dir).as_posix(),
                "score": round(float(score), 4),
            }
            for row, score in rows
        ]


def _checked_k(k: int) -> int:
    if not 1 <= k <= MAX_RESULTS:
        raise QueryError(f"k={k}: ask for 1 to {MAX_RESULTS} results")
    return k
