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

from fusion_tf.cli.config_flags import define_config_flags, given_values
from fusion_tf.cli.console import run_command
from fusion_tf.data.records import SourceFormatError
from tfrecords_builder.builder import build
from tfrecords_builder.config import BuildConfig
from tfrecords_builder.errors import BuildError

FLAGS = flags.FLAGS
define_config_flags(BuildConfig, exclude=("source_options",))
# The source options, with the reader they are for in their names.
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
    """The BuildConfig of the flags given; the others keep BuildConfig's defaults."""
    source_options = {
        option: FLAGS[flag].value
        for flag, option in SOURCE_OPTION_FLAGS.items()
        if FLAGS[flag].value is not None
    }
    return BuildConfig(**given_values(BuildConfig), source_options=source_options)


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
