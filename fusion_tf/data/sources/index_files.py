"""Reads index files (text lines, JSON documents), reporting a malformed one with file and line."""

import json
import os
from collections.abc import Iterator
from typing import Any

from fusion_tf.data.records import SourceFormatError


def read_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """Yields (line number from 1, line with its line ending) decoded as UTF-8, without a BOM."""
    # Decoding each line separately (rather than opening in text mode) lets a bad byte be reported
    # with the number of the line that holds it.
    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise SourceFormatError(
                    path, number, f"not UTF-8 text: byte {error.start} of the line is invalid"
                ) from error
            yield number, text.removeprefix("\ufeff") if number == 1 else text


def load_json(path: str | os.PathLike) -> Any:
    """Parses a whole JSON document, naming the line and column of any syntax error."""
    try:
        with open(path, "rb") as file:
            return json.loads(file.read().decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise SourceFormatError(
            path, None, f"not UTF-8 text: byte {error.start} is invalid"
        ) from error
    except json.JSONDecodeError as error:
        raise SourceFormatError(
            path, error.lineno, f"invalid JSON at column {error.colno}: {error.msg}"
        ) from error
