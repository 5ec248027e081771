"""A searchable index of every image in a folder, embedded once and cached until the folder changes."""

import dataclasses
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from fusion_tf.evaluation.contact_sheet import SheetCell
from fusion_tf.image_files import DEFAULT_MAX_IMAGE_BYTES, ImageFileError, read_image_file
from fusion_tf.search.batch_embedding import embed_in_batches
from fusion_tf.search.embedding_index import EmbeddingIndex
from fusion_tf.search.index_cache import CACHE_DIR_NAME, cached_or_built_index

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})

ImageEmbedFn = Callable[[list[bytes]], np.ndarray]


@dataclasses.dataclass(frozen=True)
class GalleryReport:
    """What build_or_load did with the folder.

    gallery_dir: Path. The folder indexed.
    num_indexed: int. Images in the index.
    skipped: tuple[tuple[str, str], ...]. (relative path, reason) for image files left out.
    num_ignored: int. Files without an image extension, not considered.
    rebuilt: bool. True when images were embedded now, False when the cache was reused.
    """

    gallery_dir: Path
    num_indexed: int
    skipped: tuple[tuple[str, str], ...]
    num_ignored: int
    rebuilt: bool

    def summary(self) -> str:
        """One line for logs, then one line per skipped file."""
        action = "embedded" if self.rebuilt else "loaded from cache"
        lines = [
            f"{self.gallery_dir}: {self.num_indexed} images {action}, {len(self.skipped)} skipped, "
            f"{self.num_ignored} non-image files ignored"
        ]
        lines += [f"  skipped {name}: {reason}" for name, reason in self.skipped]
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class ImageHit:
    """One gallery image found for a query: path: Path; score: float (cosine similarity)."""

    path: Path
    score: float

    def sheet_cell(self) -> SheetCell:
        return SheetCell(text=self.path.name, image=self.path, score=self.score)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _list_gallery(gallery_dir: Path) -> tuple[list[Path], list[list[str]], int]:
    """(image files sorted by relative path, [name, reason] of links refused, count of other files).

    Hidden files and folders are skipped. Symbolic links, to files and folders alike, are followed
    when their target lies inside the gallery and refused otherwise; a folder reached twice (a
    link to a folder already walked, or a loop) is walked once.
    """
    gallery_real = gallery_dir.resolve()
    images, refused, num_ignored, walked = [], [], 0, set()

    def relative(path: Path) -> str:
        return path.relative_to(gallery_dir).as_posix()

    def leaves_gallery(path: Path) -> bool:
        return path.is_symlink() and not _inside(path.resolve(), gallery_real)

    for root, folders, files in os.walk(gallery_dir, followlinks=True):
        here = Path(root)
        if here.resolve() in walked:
            folders[:] = []
            continue
        walked.add(here.resolve())
        kept = []
        # Hidden folders hold caches such as CACHE_DIR_NAME, never gallery images.
        for folder in sorted(folder for folder in folders if not folder.startswith(".")):
            if leaves_gallery(here / folder):
                refused.append(
                    [relative(here / folder), "symbolic link to a folder outside the gallery"]
                )
            else:
                kept.append(folder)
        folders[:] = kept
        for name in files:
            path = here / name
            if name.startswith("."):
                continue
            if path.suffix.lower() not in IMAGE_EXTENSIONS:
                num_ignored += 1
            elif leaves_gallery(path):
                refused.append([relative(path), "symbolic link to a file outside the gallery"])
            else:
                images.append(path)
    return sorted(images, key=relative), sorted(refused), num_ignored


def _read_image(path: Path) -> tuple[bytes | None, str]:
    """(encoded bytes, "") for a regular file OpenCV can decode, else (None, reason)."""
    try:
        encoded = read_image_file(path, DEFAULT_MAX_IMAGE_BYTES)
    except ImageFileError as error:
        return None, str(error)
    # A reduced-size decode checks the file is an image at a fraction of a full decode's cost.
    if cv2.imdecode(np.frombuffer(encoded, dtype=np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8) is None:
        return None, "not a decodable image"
    return encoded, ""


class GalleryIndex:
    """Image search over a folder; build with GalleryIndex.build_or_load.

    Args:
        gallery_dir: Path. The folder the images came from.
        paths: list[Path]. Indexed images, in index row order.
        index: EmbeddingIndex. Their embeddings.
        report: GalleryReport. What the build or load did.
    """

    def __init__(
        self, gallery_dir: Path, paths: list[Path], index: EmbeddingIndex, report: GalleryReport
    ):
        self.gallery_dir = gallery_dir
        self.paths = paths
        self.index = index
        self.report = report

    @classmethod
    def build_or_load(
        cls,
        gallery_dir: str | os.PathLike,
        embed_fn: ImageEmbedFn,
        cache_dir: str | os.PathLike | None = None,
        embedder_id: str = "",
        batch_size: int = 32,
        **index_options,
    ) -> "GalleryIndex":
        """Loads the cached index if the gallery is unchanged, else embeds every image and caches it.

        Every non-hidden file with an extension in IMAGE_EXTENSIONS, in any subfolder, is a
        gallery image; symbolic links are followed only when they lead to a file or folder inside
        the gallery (others are skipped and listed). Only regular files are read (a named pipe
        or a device is skipped), each up to DEFAULT_MAX_IMAGE_BYTES (50 MB). The cache is valid
        while the list of images, each one's content (a BLAKE2b hash of its bytes; sizes and
        times are not trusted), embedder_id and index_options are all unchanged. Files that
        cannot be read or decoded, and images the model refuses (embed_fn returns an all-zero
        row for them, as the export's embed_image does), are skipped and listed in
        report.skipped (also while the cache is valid).

        Args:
            gallery_dir: folder of images.
            embed_fn: list of encoded image bytes -> (n, dimension) float32 embeddings, a row of
                zeros for an image it refuses.
            cache_dir: where the index and manifest live. Defaults to <gallery_dir>/.fusion_index.
            embedder_id: names the model behind embed_fn (e.g. a checkpoint path and step);
                changing it invalidates the cache.
            batch_size: images per embed_fn call.
            **index_options: EmbeddingIndex arguments (dimension, kind, ef_search, ...).
        """
        gallery_dir = Path(gallery_dir)
        if not gallery_dir.is_dir():
            raise NotADirectoryError(f"gallery folder {gallery_dir} does not exist")
        cache_dir = Path(cache_dir) if cache_dir is not None else gallery_dir / CACHE_DIR_NAME
        index = EmbeddingIndex(**index_options)
        image_paths, refused, num_ignored = _list_gallery(gallery_dir)
        # Every file is read to hash it: a same-size edit that keeps the modification time
        # (cp -p, rsync -t) must not return the old content's embedding.
        files, unreadable = [], []
        for path in image_paths:
            name = path.relative_to(gallery_dir).as_posix()
            try:
                encoded = read_image_file(path, DEFAULT_MAX_IMAGE_BYTES)
            except ImageFileError as error:
                unreadable.append([name, str(error)])
                continue
            files.append([name, hashlib.blake2b(encoded, digest_size=16).hexdigest()])
        key = {"files": files, "embedder_id": embedder_id}

        def embed():
            read_names, skipped = [], []

            def decodable_images():
                # Read lazily so only one batch of encoded images is in memory at a time.
                for name, _ in files:
                    encoded, reason = _read_image(gallery_dir / name)
                    if encoded is None:
                        skipped.append([name, reason])
                    else:
                        read_names.append(name)
                        yield encoded

            embeddings = embed_in_batches(
                decodable_images(),
                embed_fn,
                batch_size,
                index.dimension,
                describe=lambda i: str(gallery_dir / read_names[i]),
            )
            accepted = np.any(embeddings != 0, axis=1)
            skipped += [
                [name, "the model refused it (a format it cannot read, or over its size limit)"]
                for name, used in zip(read_names, accepted, strict=True)
                if not used
            ]
            indexed = [name for name, used in zip(read_names, accepted, strict=True) if used]
            return embeddings[accepted], {"indexed": indexed, "skipped": sorted(skipped)}

        index, contents, rebuilt = cached_or_built_index(cache_dir, key, index, embed)
        skipped = sorted(refused + unreadable + contents["skipped"])
        report = GalleryReport(
            gallery_dir,
            len(contents["indexed"]),
            tuple((name, reason) for name, reason in skipped),
            num_ignored,
            rebuilt,
        )
        return cls(gallery_dir, [gallery_dir / name for name in contents["indexed"]], index, report)

    def __len__(self) -> int:
        return len(self.paths)

    def search(self, query_embeddings: np.ndarray, k: int = 5) -> list[list[ImageHit]]:
        """The k most similar gallery images per query embedding, best first."""
        results = self.index.search(query_embeddings, k)
        return [
            [ImageHit(self.paths[row], score) for row, score in hits] for hits in results.hits()
        ]
