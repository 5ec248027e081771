"""fusion-encode-caption: the encoded text image of a caption as a PNG, enlarged without smoothing.

    fusion-encode-caption --encoder_dir=OUT/encoder --output=caption.png "a dog runs"
    fusion-encode-caption --train_captions=captions.txt --output=caption.png "a dog runs"

`--train_captions` trains word vectors on a caption file first (one caption a line, or Flickr's
`IMAGE#N<TAB>caption` token format) and, with `--save_encoder_dir`, keeps them.
"""

import pathlib

import cv2
import numpy as np
from absl import app, flags

from fusion_tf import text
from fusion_tf.cli.console import configure_logging, run_command

FLAGS = flags.FLAGS
flags.DEFINE_string("encoder_dir", None, "Folder with a saved encoder (word vectors and layout).")
flags.DEFINE_string("train_captions", None, "Caption file to train word vectors on instead.")
flags.DEFINE_string("save_encoder_dir", None, "With --train_captions: where to save the encoder.")
flags.DEFINE_integer("dim", text.DEFAULT_DIM, "With --train_captions: word vector dimension.")
flags.DEFINE_integer("seed", 0, "With --train_captions: Word2Vec seed.")
flags.DEFINE_string("output", "caption.png", "PNG file to write.")
flags.DEFINE_integer("scale", 2, "Integer enlargement; nearest-neighbour keeps superpixels sharp.")


def read_caption_file(path: pathlib.Path) -> list[str]:
    """Captions from a file of one caption a line, or of Flickr token lines (IMAGE#N<TAB>caption)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[-1] for line in lines if line.strip()]


def load_encoder() -> text.TextImageEncoder:
    if (FLAGS.encoder_dir is None) == (FLAGS.train_captions is None):
        raise app.UsageError("give exactly one of --encoder_dir and --train_captions")
    if FLAGS.encoder_dir:
        return text.TextImageEncoder.load(FLAGS.encoder_dir)
    path = pathlib.Path(FLAGS.train_captions)
    if not path.is_file():
        raise app.UsageError(f"--train_captions={path}: no such file")
    captions = read_caption_file(path)
    vectors = text.train_word_vectors(captions, dim=FLAGS.dim, seed=FLAGS.seed)
    encoder = text.TextImageEncoder.fitted(vectors, captions)  # the layout the builder chooses
    if FLAGS.save_encoder_dir:
        encoder.save(FLAGS.save_encoder_dir)
    return encoder


def main(argv: list[str]) -> None:
    configure_logging()
    if len(argv) != 2:
        raise app.UsageError('give one caption, quoted: encode_caption "a dog runs on the beach"')
    if FLAGS.scale < 1:
        raise app.UsageError(f"--scale={FLAGS.scale} must be at least 1")
    encoder = load_encoder()
    print(f"layout: {encoder.layout.to_config()} (capacity {encoder.capacity} words)")
    image, statistics = encoder.encode([argv[1]], return_statistics=True)
    size = encoder.canvas_size * FLAGS.scale
    enlarged = cv2.resize(image[0], (size, size), interpolation=cv2.INTER_NEAREST)
    if not cv2.imwrite(FLAGS.output, np.ascontiguousarray(enlarged[..., ::-1])):
        raise OSError(f"could not write {FLAGS.output}")
    print(
        f"wrote {FLAGS.output}: {statistics.words} words, "
        f"{statistics.out_of_vocabulary_words} out of vocabulary (skipped), "
        f"{statistics.dropped_words} past the capacity (dropped)"
    )


def run() -> None:
    run_command(main)


if __name__ == "__main__":
    run()
