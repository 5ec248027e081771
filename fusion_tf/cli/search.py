"""fusion-search: a gallery of photos searched by text, or a file of captions by photo, with an export.

    fusion-search --saved_model=runs/x/export --gallery=photos/ "a dog runs on the beach"
    fusion-search --saved_model=runs/x/export --image=query.jpg --captions=captions.txt
    ... --k=10 --index=hnsw --html=results.html

The gallery is embedded once into an index saved beside it (GALLERY/.fusion_index), reused while
the gallery and the model are unchanged. FAISS: exact inner product by default (cosine on the
normalised embeddings, the order of the paper's Euclidean distance); --index=hnsw or ivf for
large galleries.
"""

import functools
import pathlib
import sys

from absl import app, flags

from fusion_tf.cli.console import configure_logging, run_command
from fusion_tf.search.embedding_index import INDEX_KINDS

FLAGS = flags.FLAGS
flags.DEFINE_string("saved_model", None, "Exported SavedModel (fusion-export).")
flags.DEFINE_string("gallery", None, "Folder of photos to search by text.")
flags.DEFINE_string("image", None, "A photo to search captions with (needs --captions).")
flags.DEFINE_string("captions", None, "Text file of captions, one a line, searched by --image.")
flags.DEFINE_integer("k", 5, "Results per query.")
flags.DEFINE_enum("index", "flat", list(INDEX_KINDS), "FAISS index kind.")
flags.DEFINE_string("html", None, "Write a contact sheet of the results to this HTML file.")


def main(argv):
    configure_logging()
    queries = argv[1:]
    if FLAGS.saved_model is None:
        raise app.UsageError("--saved_model is required")
    if bool(FLAGS.gallery) == bool(FLAGS.image):
        raise app.UsageError(
            'give --gallery=DIR "text query" ..., or --image=PHOTO --captions=FILE'
        )
    if FLAGS.gallery and not queries:
        raise app.UsageError("give at least one text query after the flags")
    if FLAGS.image and not FLAGS.captions:
        raise app.UsageError("--image needs --captions=FILE to search")
    from fusion_tf.evaluation.contact_sheet import SheetCell, write_contact_sheet
    from fusion_tf.search import CaptionIndex, GalleryIndex
    from fusion_tf.search.saved_model_embedder import SavedModelEmbedder

    try:
        embedder = SavedModelEmbedder(FLAGS.saved_model)
        if FLAGS.gallery:
            gallery = GalleryIndex.build_or_load(
                FLAGS.gallery,
                functools.partial(embedder.images, zeros_for_refused=True),
                embedder_id=embedder.embedder_id,
                kind=FLAGS.index,
            )
            print(gallery.report.summary())
            counts = embedder.caption_outputs(queries)
            hits = gallery.search(counts["embeddings"], FLAGS.k)
            rows = []
            for query, query_hits, used, unknown in zip(
                queries, hits, counts["words_used"], counts["out_of_vocabulary_words"], strict=True
            ):
                print(f'\n"{query}" ({used} words used, {unknown} not in the vocabulary)')
                for rank, hit in enumerate(query_hits, 1):
                    print(f"  {rank:2d}. {hit.score:.3f}  {hit.path}")
                rows.append((SheetCell(text=query), [hit.sheet_cell() for hit in query_hits]))
            sections = {"text to image": rows}
        else:
            photo = pathlib.Path(FLAGS.image)
            if not photo.is_file():
                raise FileNotFoundError(f"--image={photo}: no such file")
            index = CaptionIndex.build_or_load(
                FLAGS.captions,
                embedder.captions,
                embedder_id=embedder.embedder_id,
                kind=FLAGS.index,
            )
            hits = index.search(embedder.images([photo.read_bytes()]), FLAGS.k)[0]
            print(f"{photo} against {len(index)} captions of {FLAGS.captions}:")
            for rank, hit in enumerate(hits, 1):
                print(f"  {rank:2d}. {hit.score:.3f}  {hit.text}  (line {hit.line_number})")
            sections = {
                "image to text": [
                    (SheetCell(text=photo.name, image=photo), [h.sheet_cell() for h in hits])
                ]
            }
    except (FileNotFoundError, NotADirectoryError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    if FLAGS.html:
        print(f"contact sheet: {write_contact_sheet(FLAGS.html, sections)}")


def run() -> None:
    run_command(main)


if __name__ == "__main__":
    run()
