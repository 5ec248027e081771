"""Reads your own CSV or JSON Lines file of (image, caption) rows, grouping the captions by image.

CSV (``.csv``, ``.tsv``): a header row naming the columns ``image`` and ``caption`` (any order,
any case, other columns ignored) and optionally ``split``; the delimiter (comma, tab, semicolon or
bar) is the one that splits the header into those names, unless given. JSON Lines (``.jsonl``,
``.ndjson``): one object per line with ``"image"``, ``"caption"`` and optionally ``"split"``.

Image paths are relative to the file's folder; absolute paths and paths climbing out of the folder
with ".." are refused (a Problem each) unless ``allow_outside_folder``; the image id is the path
as written, normalised (``./a/b.jpg`` and ``a//b.jpg`` are both ``a/b.jpg``). Split names are
train (or training), val (or valid, validation, dev) and test (or testing), in any case.

A row without a split value gets its image's hash split, so every image lands in the same split on
any machine, in any row order and whatever else the file holds: the first 8 bytes of the SHA-256 of
the UTF-8 image id, read as a big-endian integer, modulo 100: 0-89 train, 90-94 val, 95-99 test.

Rows that cannot be used (wrong field count, invalid JSON, no image, an unknown split, a split
that differs from an earlier row of the same image) are reported as Problems naming file:line.
"""

import csv
import hashlib
import json
import os
import posixpath
from collections.abc import Iterator

from fusion_tf.data.records import Problem, Record, SourceFormatError
from fusion_tf.data.sources.captions import assemble_record
from fusion_tf.data.sources.index_files import read_lines

CSV_SUFFIXES = (".csv", ".tsv")
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
CSV_DELIMITERS = (",", "\t", ";", "|")
SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "dev": "val",
    "test": "test",
    "testing": "test",
}
HASH_SPLIT_PERCENTAGES = (("train", 90), ("val", 5), ("test", 5))


def hash_split(image_id: str) -> str:
    """The split of an image without a split value, fixed by its id alone (module docstring)."""
    digest = hashlib.sha256(image_id.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:8], "big") % 100
    for split, percentage in HASH_SPLIT_PERCENTAGES:
        if bucket < percentage:
            return split
        bucket -= percentage
    raise AssertionError("HASH_SPLIT_PERCENTAGES must add up to 100")


def _csv_rows(path: str | os.PathLike, delimiter: str) -> Iterator[tuple[int, dict] | Problem]:
    """Yields (line number, row as {column: value}) per CSV row, or a Problem per bad row."""
    file_name = os.path.basename(path)
    lines = read_lines(path)
    header_number, header_line = next(
        ((number, line) for number, line in lines if line.strip()), (1, "")
    )
    candidates = CSV_DELIMITERS if delimiter == "auto" else (delimiter,)
    for candidate in candidates:
        columns = [
            name.strip().lower() for name in next(csv.reader([header_line], delimiter=candidate))
        ]
        if "image" in columns and "caption" in columns:
            break
    else:
        raise SourceFormatError(
            path,
            header_number,
            "the header row must name the columns 'image' and 'caption' "
            f"(delimiter {delimiter if delimiter == 'auto' else repr(delimiter)}), "
            f"got {header_line.strip()!r}",
        )
    # The reader counts lines from where the header ended, so its line numbers are offset by it.
    reader = csv.reader((line for _, line in lines), delimiter=candidate)
    while True:
        number = header_number + reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Problem(f"line {number}", f"{file_name}:{number}", f"unreadable CSV row: {error}")
            continue
        if not fields:
            continue
        if len(fields) != len(columns):
            yield Problem(
                candidate.join(fields)[:80],
                f"{file_name}:{number}",
                f"expected {len(columns)} fields ({', '.join(columns)}), got {len(fields)}",
            )
            continue
        yield number, dict(zip(columns, fields, strict=True))


def _json_lines_rows(path: str | os.PathLike) -> Iterator[tuple[int, dict] | Problem]:
    """Yields (line number, object) per JSON Lines row, or a Problem per bad line."""
    file_name = os.path.basename(path)
    for number, line in read_lines(path):
        text = line.strip()
        if not text:
            continue
        origin = f"{file_name}:{number}"
        try:
            row = json.loads(text)
        except json.JSONDecodeError as error:
            yield Problem(text[:80], origin, f"invalid JSON at column {error.colno}: {error.msg}")
            continue
        if not isinstance(row, dict):
            yield Problem(text[:80], origin, "line is not a JSON object")
            continue
        for key in ("image", "caption", "split"):
            if row.get(key) is not None and not isinstance(row[key], str):
                yield Problem(text[:80], origin, f"{key!r} is not a string: {row[key]!r}")
                break
        else:
            yield number, row


def read_custom(
    path: str | os.PathLike, delimiter: str = "auto", allow_outside_folder: bool = False
) -> Iterator[Record | Problem]:
    """Yields a Record per image of a CSV or JSON Lines caption file, in order of first appearance.

    Args:
        path: the .csv/.tsv or .jsonl/.ndjson file.
        delimiter: CSV delimiter, or "auto" to find it from the header. Defaults to "auto".
        allow_outside_folder: bool. Read images named outside the file's folder (absolute paths,
            or paths climbing out with ".."); else each is a Problem and is never opened. Paths
            are compared as written: a symbolic link inside the folder is followed. Defaults to
            False.
    """
    if delimiter != "auto" and len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character or 'auto', got {delimiter!r}")
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix in CSV_SUFFIXES:
        rows = _csv_rows(path, delimiter)
    elif suffix in JSON_LINES_SUFFIXES:
        rows = _json_lines_rows(path)
    else:
        raise ValueError(
            f"{path}: unknown custom file type {suffix!r}; use one of "
            f"{', '.join(CSV_SUFFIXES + JSON_LINES_SUFFIXES)}"
        )
    file_name = os.path.basename(path)
    folder = os.path.dirname(os.path.abspath(path))
    images = {}  # image id -> (split, origin of its first row, list of (caption, origin))
    for row in rows:
        if isinstance(row, Problem):
            yield row
            continue
        number, values = row
        origin = f"{file_name}:{number}"
        written = (values.get("image") or "").strip()
        if not written:
            yield Problem(f"line {number}", origin, "row has no image path")
            continue
        image_id = posixpath.normpath(written)
        if not allow_outside_folder and (
            posixpath.isabs(image_id) or image_id == ".." or image_id.startswith("../")
        ):
            yield Problem(
                image_id,
                origin,
                f"outside the caption file's folder {folder}: not read "
                "(pass --allow_outside_data_dir to read it)",
            )
            continue
        split_value = (values.get("split") or "").strip()
        if not split_value:
            split = hash_split(image_id)
        elif split_value.lower() in SPLIT_NAMES:
            split = SPLIT_NAMES[split_value.lower()]
        else:
            yield Problem(
                image_id,
                origin,
                f"unknown split {split_value!r}: expected one of {', '.join(SPLIT_NAMES)}",
            )
            continue
        if image_id not in images:
            images[image_id] = (split, origin, [])
        first_split, first_origin, captions = images[image_id]
        if split != first_split:
            yield Problem(
                image_id,
                origin,
                f"split {split!r} differs from {first_split!r} given at {first_origin}; "
                "row dropped",
            )
            continue
        captions.append((values.get("caption") or "", origin))
    for image_id, (split, origin, captions) in images.items():
        yield from assemble_record(
            image_id, os.path.join(folder, image_id), captions, split, origin
        )
