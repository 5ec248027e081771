"""fusion-evaluate: scores a trained run or an exported SavedModel on a built split, as papers report it.

    fusion-evaluate --model_dir=runs/flickr30k_standard --split=test --protocol=flickr_1k
    fusion-evaluate --saved_model=runs/x/export --data_dir=SHARDS --split=test --tsne --examples
    fusion-evaluate --model_dir=runs/x --split=train --first_images=1000 --protocol=flickr_1k

Prints Recall@K both ways with the published rows for the protocol beside ours, and writes
results.json and results.md (and with --tsne / --examples the paper's Figure 3 and Table 3) to
--output_dir (default MODEL_DIR/evaluation_SPLIT; evaluation_SPLIT_firstN with --first_images=N).
The third line scores 1000 of the photos a run trained on exactly as its held-out split is scored:
recall far above the held-out split's says the model overfits, recall not much above it that the
model has not yet fit its own training data.
"""

import json
import pathlib
import sys

from absl import app, flags

from fusion_tf.cli.console import configure_logging, run_command
from fusion_tf.configs import REFERENCE_RESULTS_FILE
from fusion_tf.evaluation.protocol import PROTOCOLS
from fusion_tf.training.run_folder import CHECKPOINTS

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "A training run (its best checkpoint unless --checkpoint).")
flags.DEFINE_enum("checkpoint", "best", list(CHECKPOINTS), "Which checkpoint of --model_dir.")
flags.DEFINE_string("saved_model", None, "An exported SavedModel instead of --model_dir.")
flags.DEFINE_string("data_dir", None, "Built shards (default: the run's data_dir).")
flags.DEFINE_string("split", "test", "Split to score.")
flags.DEFINE_enum("protocol", "all", list(PROTOCOLS), "Test protocol.")
flags.DEFINE_integer(
    "first_images",
    0,
    "Score only the split's first N photos and their captions (0: all of them).",
    lower_bound=0,
)
flags.DEFINE_string(
    "output_dir", None, "Where results go (default MODEL_DIR/evaluation_SPLIT[_firstN])."
)
flags.DEFINE_bool("tsne", False, "Write the t-SNE of image and text embeddings (Figure 3).")
flags.DEFINE_bool("examples", False, "Write retrieval examples as PNG and HTML (Table 3).")

COLUMNS = ("i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10")


def results_table(results: dict, ours: str) -> str:
    """Markdown table: the published rows for the protocol, then ours and the chance levels."""
    references = json.loads(REFERENCE_RESULTS_FILE.read_text()).get(results["protocol"], [])
    header = (
        "| method | " + " | ".join(COLUMNS) + " | rsum |\n|---" + "|---:" * (len(COLUMNS) + 1) + "|"
    )
    rows = [header]
    for row in references + [{"method": ours, **results}]:
        values = [row[column] for column in COLUMNS]
        # A published row may lack a figure (null): shown as "-", and then it has no rsum.
        cells = ["-" if value is None else f"{value:.1f}" for value in values]
        rsum = "-" if None in values else f"{sum(values):.1f}"
        rows.append(f"| {row['method']} | " + " | ".join(cells) + f" | {rsum} |")
    chance = [results["chance"][column[4:]][column[:3]] for column in COLUMNS]
    rows.append("| chance | " + " | ".join(f"{v:.1f}" for v in chance) + f" | {sum(chance):.1f} |")
    return "\n".join(rows)


def main(argv):
    configure_logging()
    del argv
    if (FLAGS.model_dir is None) == (FLAGS.saved_model is None):
        raise app.UsageError("give exactly one of --model_dir and --saved_model")
    from fusion_tf.data.manifest import DataDirectoryError, split_files
    from fusion_tf.evaluation import embeddings as embedding_lib
    from fusion_tf.evaluation.report import evaluate_embeddings, format_results
    from fusion_tf.training.config import TrainConfig

    config = TrainConfig.load(FLAGS.model_dir) if FLAGS.model_dir else None
    data_dir = FLAGS.data_dir or (config.data_dir if config else None)
    if data_dir is None:
        raise app.UsageError("--saved_model needs --data_dir (the built shards to score)")
    first_images = FLAGS.first_images or None  # None: the whole split
    scored = f"split {FLAGS.split}" + (
        f" (its first {first_images} images)" if first_images else ""
    )
    # A subset's results go beside the whole split's, never over them.
    subset = f"_first{first_images}" if first_images else ""
    output_dir = pathlib.Path(
        FLAGS.output_dir
        or pathlib.Path(FLAGS.model_dir or FLAGS.saved_model) / f"evaluation_{FLAGS.split}{subset}"
    )
    print(
        f"evaluating {FLAGS.model_dir or FLAGS.saved_model} on {data_dir} {scored}, "
        f"protocol {FLAGS.protocol}"
    )
    try:
        split_files(data_dir, FLAGS.split)
        if FLAGS.model_dir:
            from fusion_tf.training.run_folder import restore_model

            model = restore_model(FLAGS.model_dir, FLAGS.checkpoint)
            embeddings = embedding_lib.embed_split(
                model, data_dir, FLAGS.split, config.pipeline(), first_images=first_images
            )
        else:
            embeddings = embedding_lib.embed_split_with_saved_model(
                FLAGS.saved_model, data_dir, FLAGS.split, first_images=first_images
            )
        results = evaluate_embeddings(embeddings, FLAGS.protocol)
    except (DataDirectoryError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    results.update(
        {
            "split": FLAGS.split,
            "first_images": first_images,  # null: the whole split
            "data_dir": str(data_dir),
            "model": FLAGS.model_dir or FLAGS.saved_model,
        }
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = results_table(results, "fusion_tf (this run)")
    (output_dir / "results.md").write_text(
        f"# Recall@K, {scored}, protocol {FLAGS.protocol}\n\n{table}\n\n"
        f"Semantic R-precision: i2t {results['semantic']['i2t_r_precision']:.1f}, "
        f"t2i {results['semantic']['t2i_r_precision']:.1f}\n"
    )
    print(format_results(results))
    print(table)
    if FLAGS.tsne or FLAGS.examples:
        write_figures(embeddings, data_dir, output_dir)
    print(f"wrote {output_dir}")


def write_figures(embeddings: dict, data_dir: str, output_dir: pathlib.Path) -> None:
    from fusion_tf.data import schema
    from fusion_tf.data.pipeline import ordered_records
    from fusion_tf.evaluation.figures import plot_tsne, write_examples

    if FLAGS.tsne:
        print(
            f"t-SNE: {plot_tsne(embeddings['photos'], embeddings['captions'], output_dir / 'tsne.png')}"
        )
    if FLAGS.examples:
        records = ordered_records(data_dir, FLAGS.split, len(embeddings["photos"]))
        images = [example[schema.IMAGE].numpy() for example in records]
        texts = [[] for _ in images]
        for image, text in zip(embeddings["caption_to_image"], embeddings["texts"], strict=True):
            texts[image].append(text)
        paths = write_examples(
            embeddings["photos"],
            embeddings["captions"],
            embeddings["caption_to_image"],
            texts,
            images,
            output_dir,
        )
        print("examples: " + ", ".join(str(path) for path in paths.values()))


def run() -> None:
    run_command(main)


if __name__ == "__main__":
    run()
