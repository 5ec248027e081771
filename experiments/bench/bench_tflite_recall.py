"""Recall@K of a trained run's LiteRT embedders against its SavedModel, on a built split.

    python -m experiments.bench.bench_tflite_recall --model_dir=runs/flickr8k_cpu_contrastive \
        --data_dir=runs/flickr8k/shards --split=val

Exports the run's checkpoint both ways (into a temporary folder), embeds the split through the
SavedModel (stored JPEG bytes and raw captions, the serving path) and through the LiteRT photo
and canvas embedders, float32 and int8, fed what the SavedModel computes inside (the decoded,
resized photo; the encoded caption canvas), and prints Recall@K, the largest score difference
and the smallest cosine of each against the SavedModel. The string embedder needs the Select TF
ops, which TensorFlow's Python interpreter lacks, so it is not run.
"""

import pathlib
import tempfile

import numpy as np
from absl import app, flags

from experiments.bench.bench_tflite import min_cosine
from fusion_tf import machine
from fusion_tf.data import pipeline, schema
from fusion_tf.evaluation.embeddings import embed_split_with_saved_model
from fusion_tf.evaluation.recall import recall_at_k
from fusion_tf.export import stored_jpeg
from fusion_tf.export.saved_model import stored_image_settings
from fusion_tf.export.tflite import signature_runner
from fusion_tf.orchestration.export_run import export_run
from fusion_tf.text.encoder import TextImageEncoder
from fusion_tf.training.config import TrainConfig
from fusion_tf.training.run_folder import RUN_ENCODER_DIR, restore_model

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "A training run folder.", required=True)
flags.DEFINE_string("data_dir", None, "Built shards (default: the run's data_dir).")
flags.DEFINE_string("split", "val", "The split to embed.")
flags.DEFINE_enum("checkpoint", "latest", ["best", "latest"], "Which checkpoint to export.")
BATCH = 64


def run_lite(path: pathlib.Path, name: str, rows: np.ndarray) -> np.ndarray:
    runner = signature_runner(path)
    chunks = [
        runner(**{name: rows[i : i + BATCH]})["embeddings"] for i in range(0, len(rows), BATCH)
    ]
    return np.concatenate(chunks)


def main(argv: list[str]) -> None:
    del argv
    print(machine.describe())
    model_dir = pathlib.Path(FLAGS.model_dir)
    data_dir = FLAGS.data_dir or TrainConfig.load(model_dir).data_dir
    image_size = restore_model(model_dir, FLAGS.checkpoint).image_size
    encoder = TextImageEncoder.load(model_dir / RUN_ENCODER_DIR)
    settings, _ = stored_image_settings(data_dir)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        saved_dir = export_run(model_dir, scratch / "saved", FLAGS.checkpoint)
        lite_dir = export_run(model_dir, scratch / "lite", FLAGS.checkpoint, "tflite")
        saved = embed_split_with_saved_model(str(saved_dir), data_dir, FLAGS.split)
        records = pipeline.ordered_records(data_dir, FLAGS.split)
        pixels = np.stack(
            [
                pipeline.decode_image(
                    stored_jpeg(bytes(example[schema.IMAGE].numpy()), settings), image_size
                )
                for example in records
            ]
        ).astype(np.float32)
        canvases = encoder.encode(list(saved["texts"]))
        rows = {"SavedModel": (saved["photos"], saved["captions"])}
        for suffix, label in (("", "LiteRT float32"), ("_int8", "LiteRT int8")):
            rows[label] = (
                run_lite(lite_dir / f"photo_embedder{suffix}.tflite", "pixels", pixels),
                run_lite(lite_dir / f"caption_image_embedder{suffix}.tflite", "canvases", canvases),
            )
    print(
        f"{model_dir} ({FLAGS.checkpoint} checkpoint), split {FLAGS.split}: "
        f"{len(pixels)} photos, {len(canvases)} captions"
    )
    print(
        "| embedders | i2t R@1 | R@5 | R@10 | t2i R@1 | R@5 | R@10 | rsum | largest score difference | min cosine photos / captions |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    reference_scores = saved["captions"] @ saved["photos"].T
    for label, (photos, captions) in rows.items():
        metrics = recall_at_k(photos, captions, saved["caption_to_image"])
        scores = captions @ photos.T
        recall = " | ".join(
            f"{metrics[f'{direction}_r{k}']:.1f}"
            for direction in ("i2t", "t2i")
            for k in (1, 5, 10)
        )
        print(
            f"| {label} | {recall} | {metrics['rsum']:.1f} "
            f"| {np.abs(scores - reference_scores).max():.2e} "
            f"| {min_cosine(photos, saved['photos']):.7f} / {min_cosine(captions, saved['captions']):.7f} |"
        )


if __name__ == "__main__":
    app.run(main)
