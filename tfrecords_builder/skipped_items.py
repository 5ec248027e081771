"""skipped.jsonl, the list of everything left out and why, and the check that not too much was.

Each line is one problem: ``{"item", "origin", "reason", "split", "image_skipped"}``. ``split`` is
null when the reader could not tell it (a malformed line). ``image_skipped`` is false for a
problem that cost no image: an empty caption dropped from an image that was written, or a repeated
entry of an image written from its first entry. The skipped fraction of a split counts the images
that were planned for it but not written; problems that belong to no image of any split count
against the whole data set.
"""

import json
import os
from collections.abc import Iterable

from fusion_tf.data.records import SPLITS
from tfrecords_builder.atomic_files import replace_atomically
from tfrecords_builder.errors import BuildError

NO_SPLIT = "no_split"


def write_skipped_file(
    path: str | os.PathLike,
    problems_path: str | os.PathLike,
    image_splits: dict[str, str],
    shard_records: Iterable[dict],
) -> dict[str, int]:
    """Writes skipped.jsonl (source problems, then images skipped in each shard) and counts them.

    Returns:
        Skipped images per split, those without a split under "no_split", and "lines", the
        number of lines written.
    """
    counts = dict.fromkeys((*SPLITS, NO_SPLIT), 0)
    counted = set()  # (split, item): an image with several problems is one skipped image
    lines = 0
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as output:

        def write(line: dict) -> None:
            nonlocal lines
            lines += 1
            key = (line["split"] or NO_SPLIT, line["item"])
            if line["image_skipped"] and key not in counted:
                counted.add(key)
                counts[key[0]] += 1
            output.write(json.dumps(line, ensure_ascii=False) + "\n")

        with open(problems_path, encoding="utf-8") as problems:
            for text in problems:
                problem = json.loads(text)
                split = image_splits.get(problem["item"])
                write({**problem, "split": split, "image_skipped": split is None})
        for record in shard_records:
            for item in record["skipped"]:
                write({**item, "image_skipped": True})
    replace_atomically(temporary, path)
    return {**counts, "lines": lines}


def check_skipped_fraction(
    skipped: dict[str, int],
    planned: dict[str, int],
    max_fraction: float,
    skipped_path: str | os.PathLike,
) -> None:
    """Raises BuildError naming each split where more than max_fraction of the images were skipped."""
    too_many = []
    for split in SPLITS:
        if planned[split] and skipped[split] / planned[split] > max_fraction:
            too_many.append(
                f"{split}: {skipped[split]} of {planned[split]} images "
                f"({skipped[split] / planned[split]:.1%})"
            )
    entries = sum(planned.values()) + skipped[NO_SPLIT]
    if skipped[NO_SPLIT] and skipped[NO_SPLIT] / entries > max_fraction:
        too_many.append(
            f"without a split: {skipped[NO_SPLIT]} of {entries} entries "
            f"({skipped[NO_SPLIT] / entries:.1%})"
        )
    if too_many:
        raise BuildError(
            f"more than --max_skipped_fraction={max_fraction:g} of the data was skipped: "
            f"{'; '.join(too_many)}. Each item and its reason is listed in {skipped_path}. Fix the "
            "input and run again (shards whose inputs did not change are kept), or raise "
            "--max_skipped_fraction."
        )
