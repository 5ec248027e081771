"""Reads the Karpathy split JSON files of Flickr8k, Flickr30K and COCO (dataset_*.json).

The format: ``{"images": [{"filename", "split", "sentences": [{"raw", ...}], "filepath"?, ...}]}``.
COCO entries carry ``filepath`` (``train2014`` or ``val2014``), the sub-folder of the image. The
split ``restval`` (COCO images outside the 5000-image val and test sets) joins train, as in the
papers that use these splits.
"""

import dataclasses
import os
from collections.abc import Iterator
from typing import Any

from fusion_tf.data.records import Problem, Record, SourceFormatError
from fusion_tf.data.sources.captions import assemble_record
from fusion_tf.data.sources.index_files import load_json

KARPATHY_SPLITS = {"train": "train", "restval": "train", "val": "val", "test": "test"}


@dataclasses.dataclass(frozen=True)
class KarpathyEntry:
    """One valid image entry of a Karpathy split file.

    Args:
        filename: str. The image file name, also its image id.
        filepath: str. Sub-folder of the image below the image folder ("" outside COCO).
        split: str. "train", "val" or "test" (restval already mapped to train).
        sentences: Any. The entry's raw "sentences" value, checked by whoever reads captions.
        origin: str. Where the entry is, e.g. "dataset_coco.json: images[12]".
    """

    filename: str
    filepath: str
    split: str
    sentences: Any
    origin: str


def read_karpathy_entries(index_path: str | os.PathLike) -> Iterator[KarpathyEntry | Problem]:
    """Yields each usable image entry, and a Problem for each unusable or repeated one."""
    document = load_json(index_path)
    if not isinstance(document, dict) or not isinstance(document.get("images"), list):
        raise SourceFormatError(
            index_path, None, 'not a Karpathy split file: expected {"images": [...]} at the top'
        )
    file_name = os.path.basename(index_path)
    first_origins = {}
    for index, entry in enumerate(document["images"]):
        origin = f"{file_name}: images[{index}]"
        if not isinstance(entry, dict):
            yield Problem(f"images[{index}]", origin, "entry is not a JSON object")
            continue
        filename = entry.get("filename")
        filepath = entry.get("filepath", "")
        split = entry.get("split")
        if not isinstance(filename, str) or not filename.strip():
            yield Problem(f"images[{index}]", origin, "entry has no 'filename' string")
        elif not isinstance(filepath, str):
            yield Problem(filename, origin, f"'filepath' is not a string: {filepath!r}")
        elif split not in KARPATHY_SPLITS:
            yield Problem(
                filename,
                origin,
                f"unknown split {split!r}: expected one of {', '.join(KARPATHY_SPLITS)}",
            )
        elif filename in first_origins:
            yield Problem(
                filename, origin, f"duplicate image id, first listed at {first_origins[filename]}"
            )
        else:
            first_origins[filename] = origin
            yield KarpathyEntry(
                filename, filepath, KARPATHY_SPLITS[split], entry.get("sentences"), origin
            )


def read_karpathy(
    index_path: str | os.PathLike, image_dir: str | os.PathLike
) -> Iterator[Record | Problem]:
    """Yields a Record per image of a Karpathy split file (captions from sentences[].raw)."""
    for entry in read_karpathy_entries(index_path):
        if isinstance(entry, Problem):
            yield entry
            continue
        image_path = os.path.join(image_dir, entry.filepath, entry.filename)
        sentences = entry.sentences
        if not isinstance(sentences, list):
            yield Problem(entry.filename, entry.origin, "entry has no 'sentences' list")
            continue
        captions = []
        for index, sentence in enumerate(sentences):
            sentence_origin = f"{entry.origin}.sentences[{index}]"
            raw = sentence.get("raw") if isinstance(sentence, dict) else None
            if isinstance(raw, str):
                captions.append((raw, sentence_origin))
            else:
                yield Problem(entry.filename, sentence_origin, "sentence has no 'raw' string")
        yield from assemble_record(entry.filename, image_path, captions, entry.split, entry.origin)
