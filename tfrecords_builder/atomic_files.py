"""Writes files so that a reader sees either nothing or the whole file, even if the writer is killed."""

import json
import os
import pathlib


def replace_atomically(temporary: str | os.PathLike, final: str | os.PathLike) -> None:
    """Flushes `temporary` to disk and renames it to `final` (same file system, so atomic)."""
    with open(temporary, "rb") as file:
        os.fsync(file.fileno())
    os.replace(temporary, final)


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """Writes `text` to `path` through a temporary file beside it."""
    path = pathlib.Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    replace_atomically(temporary, path)


def write_json_atomically(path: str | os.PathLike, value) -> None:
    """Writes `value` as indented JSON to `path` through a temporary file beside it."""
    write_text_atomically(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")
