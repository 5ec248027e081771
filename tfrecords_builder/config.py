"""BuildConfig: everything that says what a build writes, and how it runs.

Its fields are fusion-build-tfrecords' flags too (fusion_tf.cli.config_flags): a field's meaning is
its docstring entry, its choices the `choices` in its metadata.
"""

import dataclasses
import os

from fusion_tf.config_fields import choice, choice_problems
from fusion_tf.data.sources import DATASETS
from fusion_tf.image_files import DEFAULT_MAX_IMAGE_BYTES
from fusion_tf.text import DEFAULT_DIM
from tfrecords_builder.errors import BuildError

ON_ERROR_CHOICES = ("skip", "fail")
DEFAULT_MAX_IMAGE_PIXELS = 100_000_000
# Settings that change what is written; the others (workers, error policy, overwrite) only change
# how a build runs, so a build may be resumed with different values of them.
OUTPUT_SETTINGS = (
    "dataset",
    "data_dir",
    "source_options",
    "word_vectors",
    "word_vector_dim",
    "seed",
    "images_per_shard",
    "image_size",
    "jpeg_quality",
    "max_image_pixels",
)


@dataclasses.dataclass(frozen=True)
class BuildConfig:
    """What to build from which data set, and how.

    Args:
        dataset: str. Data set name, one of fusion_tf.data.sources.DATASETS.
        output_dir: str. Folder that receives the shards, encoder/, skipped.jsonl and manifest.json.
        data_dir: str or None. The raw data (see open_source); None for shapes. Defaults to None.
        source_options: dict. Reader options passed to open_source (image_dir, delimiter, and
            shapes' seed, num_train, num_val, num_test, image_size). Defaults to {}.
        word_vectors: str or None. A saved WordVectors folder, or a word2vec .bin/.txt file, used
            instead of training Word2Vec on the train captions. Defaults to None.
        word_vector_dim: int. Dimension of the trained Word2Vec vectors. Defaults to 24.
        seed: int. Word2Vec seed. Defaults to 0.
        images_per_shard: int. Images per shard file; a split has ceil(images / this) shards, at
            least one. Defaults to 1000.
        image_size: int. Side of the stored square images in pixels (the paper resizes to 256,
            ignoring the aspect ratio). Defaults to 256.
        jpeg_quality: int. Quality of the stored JPEG images, 1 to 100. Defaults to 95.
        max_image_pixels: int. Images with more pixels are skipped unread (decompression
            bombs). Defaults to 100,000,000 (a 108-megapixel phone photo is over it).
        max_image_bytes: int. Image files larger than this are skipped unread. Defaults to
            50,000,000 (a 100-megapixel JPEG at quality 95 is about 30 MB).
        allow_outside_data_dir: bool. custom: read images that the caption file names outside
            its folder (an absolute path or one climbing out with ".."); by default they are
            skipped, so a caption file from elsewhere cannot make the build read any file.
            Defaults to False.
        max_skipped_fraction: float. The build fails when more than this fraction of a split is
            skipped. Defaults to 0.01.
        on_error: str. "skip" lists bad input in skipped.jsonl and goes on; "fail" stops at the
            first problem. Defaults to "skip".
        num_workers: int or None. Worker processes that convert images and encode captions.
            Defaults to os.cpu_count().
        overwrite: bool. Delete an earlier build in output_dir and start over. Defaults to False.
    """

    dataset: str = dataclasses.field(metadata={"choices": DATASETS})
    output_dir: str
    data_dir: str | None = None
    source_options: dict = dataclasses.field(default_factory=dict)
    word_vectors: str | None = None
    word_vector_dim: int = DEFAULT_DIM
    seed: int = 0
    images_per_shard: int = 1000
    image_size: int = 256
    jpeg_quality: int = 95
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    allow_outside_data_dir: bool = False
    max_skipped_fraction: float = 0.01
    on_error: str = choice("skip", ON_ERROR_CHOICES)
    num_workers: int | None = None
    overwrite: bool = False

    def resolved(self) -> "BuildConfig":
        """The config checked, with absolute paths and the number of workers filled in."""
        problems = choice_problems(self)
        if problems:
            raise BuildError("; ".join(problems))
        positive = (
            "word_vector_dim",
            "images_per_shard",
            "image_size",
            "max_image_pixels",
            "max_image_bytes",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise BuildError(f"{name}={getattr(self, name)} must be at least 1")
        if not 1 <= self.jpeg_quality <= 100:
            raise BuildError(f"jpeg_quality={self.jpeg_quality} must be between 1 and 100")
        if not 0 <= self.max_skipped_fraction <= 1:
            raise BuildError(
                f"max_skipped_fraction={self.max_skipped_fraction} must be between 0 and 1"
            )
        num_workers = (os.cpu_count() or 1) if self.num_workers is None else self.num_workers
        if num_workers < 1:
            raise BuildError(f"num_workers={num_workers} must be at least 1")

        def absolute(path):
            return None if path is None else os.path.abspath(os.fspath(path))

        return dataclasses.replace(
            self,
            output_dir=absolute(self.output_dir),
            data_dir=absolute(self.data_dir),
            word_vectors=absolute(self.word_vectors),
            source_options=dict(self.source_options),
            num_workers=num_workers,
        )

    def output_settings(self) -> dict:
        """The settings that decide what is written: two builds with equal ones write equal shards."""
        return {name: getattr(self, name) for name in OUTPUT_SETTINGS}

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
