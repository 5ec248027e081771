"""fusion-export: a training run as a SavedModel that embeds raw JPEG/PNG bytes and raw captions.

    fusion-export --model_dir=runs/flickr8k
    fusion-export --model_dir=runs/flickr8k --export_dir=serving/fusion/1 --checkpoint=latest
    fusion-export --model_dir=runs/flickr8k --format=tflite    # LiteRT files in MODEL_DIR/export_tflite

Prints the run's configuration, writes the SavedModel (replacing an earlier export in that
folder) and prints its signatures. Serving it needs only TensorFlow: `tf.saved_model.load`, or
TF Serving with --model_base_path at a folder whose numbered subfolders are exports. With
--format=tflite it writes the LiteRT embedders of fusion_tf/export/tflite.py instead and prints
each file's size, input and whether it needs the Select TF ops.
"""

import json
import pathlib

from absl import app, flags

from fusion_tf.cli.console import configure_logging, run_command
from fusion_tf.export import read_export_info
from fusion_tf.export.tflite import TFLITE_INFO_FILE
from fusion_tf.orchestration.export_run import EXPORT_FORMATS, export_run
from fusion_tf.training.config import CONFIG_FILE, TrainConfig
from fusion_tf.training.run_folder import CHECKPOINTS

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "The training run folder.", required=True)
flags.DEFINE_string("export_dir", None, "Where to write the SavedModel (default MODEL_DIR/export).")
flags.DEFINE_enum("checkpoint", "best", list(CHECKPOINTS), "Best by validation rsum, or latest.")
flags.DEFINE_enum(
    "format",
    "saved_model",
    list(EXPORT_FORMATS),
    "A SavedModel, or LiteRT (TFLite) photo and caption embedders, float32 and int8.",
)


def describe_signatures(info: dict) -> str:
    lines = []
    for name, signature in info["signatures"].items():
        lines.append(f"  {name}:")
        for kind in ("inputs", "outputs"):
            for tensor, meaning in signature[kind].items():
                lines.append(f"    {kind[:-1]:<6} {tensor:<24} {meaning}")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    if not (pathlib.Path(FLAGS.model_dir) / CONFIG_FILE).is_file():
        raise app.UsageError(
            f"--model_dir={FLAGS.model_dir} is not a training run: no {CONFIG_FILE}"
        )
    configure_logging()
    print(TrainConfig.load(FLAGS.model_dir).describe(), flush=True)
    export_dir = export_run(FLAGS.model_dir, FLAGS.export_dir, FLAGS.checkpoint, FLAGS.format)
    if FLAGS.format == "tflite":
        info = json.loads((export_dir / TFLITE_INFO_FILE).read_text())
        print(f"wrote {export_dir} from the {FLAGS.checkpoint} checkpoint of {FLAGS.model_dir}:")
        for stem, described in info["files"].items():
            needed = described["select_tf_ops"]
            select = f", needs the Select TF ops ({len(needed)})" if needed else ""
            print(
                f"  {stem}.tflite  {described['bytes'] / 2**20:.1f} MiB  {described['inputs']}{select}"
            )
        return
    info = read_export_info(export_dir)
    stored = info["stored_image"]
    print(
        f"wrote {export_dir} from the {FLAGS.checkpoint} checkpoint of {FLAGS.model_dir}\n"
        f"photos: converted like the builder ({stored['size']} px JPEG at quality "
        f"{stored['jpeg_quality']}, settings from the {info['source']['stored_image_settings_from']}), "
        f"then {info['image_size']} px, {info['standardization']} standardisation\n"
        f"captions: {info['vocabulary_size']} words, {info['caption_capacity']} per canvas\n"
        f"signatures (saved_model_cli show --dir {export_dir} --all):\n{describe_signatures(info)}"
    )


def run() -> None:
    run_command(main)


if __name__ == "__main__":
    run()
