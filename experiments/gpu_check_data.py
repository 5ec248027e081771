"""Builds the real photos the GPU check carries: a slice of Flickr8k train/dev as TFRecord shards.

    python -m experiments.gpu_check_data --source_dir=../shared/data/flickr8k_trainval --output_dir=.gpu_check

The GPU machine has no ../shared and takes at most 64 MiB with the code, so the check carries
--train_images + --val_images photos already built (about 40 KB each with their five captions).
"""

import pathlib
import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string(
    "source_dir", None, "A Flickr8k folder with Flickr8k.token.txt and split lists."
)
flags.DEFINE_string("output_dir", ".gpu_check", "Where the caption file and shards/ go.")
flags.DEFINE_integer("train_images", 800, "Training photos to carry.")
flags.DEFINE_integer("val_images", 200, "Validation photos to carry.")


def write_caption_file(source_dir: pathlib.Path, output_dir: pathlib.Path) -> pathlib.Path:
    """A custom-format CSV of the first photos of the train and dev lists, with their captions."""
    import csv

    chosen = {}
    for split, listing, count in (
        ("train", "Flickr_8k.trainImages.txt", FLAGS.train_images),
        ("val", "Flickr_8k.devImages.txt", FLAGS.val_images),
    ):
        names = (source_dir / listing).read_text().split()[:count]
        chosen.update((name, split) for name in names)
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / "captions.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "caption", "split"])
        for line in (source_dir / "Flickr8k.token.txt").read_text(encoding="utf-8").splitlines():
            key, caption = line.split("\t", 1)
            name = key.split("#", 1)[0]
            if name in chosen:
                writer.writerow(
                    [str((source_dir / "images" / name).resolve()), caption, chosen[name]]
                )
    return path


def main(argv):
    del argv
    import tfrecords_builder

    if FLAGS.source_dir is None or not pathlib.Path(FLAGS.source_dir).is_dir():
        print(f"error: --source_dir={FLAGS.source_dir} is not a Flickr8k folder", file=sys.stderr)
        sys.exit(2)
    output_dir = pathlib.Path(FLAGS.output_dir)
    captions = write_caption_file(pathlib.Path(FLAGS.source_dir), output_dir)
    manifest = tfrecords_builder.build(
        tfrecords_builder.BuildConfig(
            "custom",
            output_dir=str(output_dir / "shards"),
            data_dir=str(captions),
            # The caption file names the photos where they are, outside its own folder.
            allow_outside_data_dir=True,
        )
    )
    print({split: info["images"] for split, info in manifest["splits"].items()})


if __name__ == "__main__":
    app.run(main)
