"""fusion-build-tfrecords: parses the builder's flags, prints the resolved config, and calls build().

    fusion-build-tfrecords --dataset=flickr8k --data_dir=RAW --output_dir=OUT
    fusion-build-tfrecords --dataset=shapes --shapes_num_train=5000 --output_dir=OUT

(`python -m tfrecords_builder` is the same command.) Run it again after an interruption to finish
the job; completed shards are kept. Exits with 1 and one line of explanation on expected failures
(bad input beyond --max_skipped_fraction, a folder holding a build with other settings, a
malformed index file).
"""

import json
import sys

from absl import app, flags

from fusion_tf.cli.console import run_command
from fusion_tf.data.records import SourceFormatError
from fusion_tf.data.sources import DATASETS
from fusion_tf.text import DEFAULT_DIM
from tfrecords_builder.builder import build
from tfrecords_builder.config import DEFAULT_MAX_IMAGE_PIXELS, ON_ERROR_CHOICES, BuildConfig
from tfrecords_builder.errors import BuildError

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", None, DATASETS, "Data set to build.")
flags.DEFINE_string(
    "data_dir", None, "Raw data folder (for custom: the caption file or its folder)."
)
flags.DEFINE_string(
    "output_dir", None, "Folder for the shards, encoder/, skipped.jsonl, manifest.json."
)
flags.DEFINE_string(
    "word_vectors",
    None,
    "Saved WordVectors folder or word2vec .bin/.txt file to use instead of training Word2Vec on "
    "the train captions.",
)
flags.DEFINE_integer("word_vector_dim", DEFAULT_DIM, "Dimension of trained word vectors.")
flags.DEFINE_integer("seed", 0, "Word2Vec seed.")
flags.DEFINE_integer("num_workers", None, "Worker processes (default: os.cpu_count()).")
flags.DEFINE_integer("images_per_shard", 1000, "Images per TFRecord shard.")
flags.DEFINE_integer("image_size", 256, "Side of the stored square images (the paper's: 256).")
flags.DEFINE_integer("jpeg_quality", 95, "Quality of the stored JPEG images.")
flags.DEFINE_integer(
    "max_image_pixels", DEFAULT_MAX_IMAGE_PIXELS, "Images with more pixels are skipped unread."
)
flags.DEFINE_float(
    "max_skipped_fraction", 0.01, "Fail when more than this fraction of a split is skipped."
)
flags.DEFINE_enum("on_error", "skip", ON_ERROR_CHOICES, "Skip bad input (listed) or stop at it.")
flags.DEFINE_bool("overwrite", False, "Delete an earlier build in --output_dir and start over.")
flags.DEFINE_string("image_dir", None, "flickr8k, flickr30k, coco: the image folder, if not found.")
flags.DEFINE_string("delimiter", None, "custom: CSV delimiter (default: found from the header).")
flags.DEFINE_integer("shapes_seed", None, "shapes: seed of the generated scenes.")
flags.DEFINE_integer("shapes_num_train", None, "shapes: train scenes.")
flags.DEFINE_integer("shapes_num_val", None, "shapes: val scenes.")
flags.DEFINE_integer("shapes_num_test", None, "shapes: test scenes.")
flags.DEFINE_integer("shapes_image_size", None, "shapes: side of the generated scenes in pixels.")
flags.mark_flags_as_required(["dataset", "output_dir"])

# flag -> open_source option; only flags that were given are passed on
SOURCE_OPTION_FLAGS = {
    "image_dir": "image_dir",
    "delimiter": "delimiter",
    "shapes_seed": "seed",
    "shapes_num_train": "num_train",
    "shapes_num_val": "num_val",
    "shapes_num_test": "num_test",
    "shapes_image_size": "image_size",
}


def config_from_flags() -> BuildConfig:
    source_options = {
        option: FLAGS[flag].value
        for flag, option in SOURCE_OPTION_FLAGS.items()
        if FLAGS[flag].value is not None
    }
    return BuildConfig(
        dataset=FLAGS.dataset,
        output_dir=FLAGS.output_dir,
        data_dir=FLAGS.data_dir,
        source_options=source_options,
        word_vectors=FLAGS.word_vectors,
        word_vector_dim=FLAGS.word_vector_dim,
        seed=FLAGS.seed,
        images_per_shard=FLAGS.images_per_shard,
        image_size=FLAGS.image_size,
        jpeg_quality=FLAGS.jpeg_quality,
        max_image_pixels=FLAGS.max_image_pixels,
        max_skipped_fraction=FLAGS.max_skipped_fraction,
        on_error=FLAGS.on_error,
        num_workers=FLAGS.num_workers,
        overwrite=FLAGS.overwrite,
    )


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    try:
        config = config_from_flags().resolved()
        print(f"build config: {json.dumps(config.as_dict(), indent=2)}", flush=True)
        manifest = build(config)
    except (BuildError, SourceFormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    for split, summary in manifest["splits"].items():
        print(
            f"{split}: {summary['images']} images, {summary['captions']} captions, "
            f"{len(summary['shards'])} shards, {manifest['skipped'][split]} images skipped"
        )
    print(
        f"{manifest['num_classes']} classes; {manifest['skipped']['lines']} problems listed in "
        f"{config.output_dir}/{manifest['skipped']['file']}; manifest in {config.output_dir}"
    )


def run() -> None:
    run_command(main)


if __name__ == "__main__":
    run()
