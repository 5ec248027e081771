"""A self-contained HTML contact sheet of queries and their results, thumbnails embedded as base64."""

import base64
import dataclasses
import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

ImageSource = bytes | str | os.PathLike


@dataclasses.dataclass(frozen=True)
class SheetCell:
    """One query or result on the sheet.

    text: str. Caption, file name or other label shown under the cell. Defaults to "".
    image: bytes | str | PathLike | None. Encoded image bytes or an image file path. Defaults to None.
    score: float | None. Similarity shown beside the label. Defaults to None.
    highlighted: bool. Framed in green, e.g. the ground truth. Defaults to False.
    """

    text: str = ""
    image: ImageSource | None = None
    score: float | None = None
    highlighted: bool = False


def load_thumbnail(image: ImageSource, size: int) -> np.ndarray | None:
    """Decodes image bytes or a file with OpenCV and shrinks it to fit size x size, as RGB uint8.

    Returns None when the file cannot be read or decoded, so one bad image does not spoil a sheet.
    """
    if isinstance(image, bytes):
        encoded = image
    else:
        try:
            encoded = Path(image).read_bytes()
        except OSError:
            return None
    decoded = cv2.imdecode(np.frombuffer(encoded, dtype=np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        return None
    scale = size / max(decoded.shape[:2])
    if scale < 1:
        new_size = (
            max(1, round(decoded.shape[1] * scale)),
            max(1, round(decoded.shape[0] * scale)),
        )
        decoded = cv2.resize(decoded, new_size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)


def _thumbnail_data_uri(image: ImageSource, size: int) -> str | None:
    thumbnail = load_thumbnail(image, size)
    if thumbnail is None:
        return None
    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(thumbnail, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    if not ok:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def _cell_html(cell: SheetCell, thumbnail_size: int, css_class: str) -> str:
    parts = []
    if cell.image is not None:
        uri = _thumbnail_data_uri(cell.image, thumbnail_size)
        if uri is None:
            parts.append('<div class="missing">(unreadable image)</div>')
        else:
            parts.append(f'<img src="{uri}" alt="{html.escape(cell.text)}">')
    label = html.escape(cell.text)
    if cell.score is not None:
        label += f' <span class="score">{cell.score:.3f}</span>'
    parts.append(f"<div>{label}</div>")
    if cell.highlighted:
        css_class += " highlighted"
    return f'<td class="{css_class}">{"".join(parts)}</td>'


_STYLE = """
body { font-family: sans-serif; font-size: 13px; }
table { border-collapse: separate; border-spacing: 6px; }
td.cell { vertical-align: top; width: %(size)dpx; border: 3px solid transparent; padding: 2px; }
td.query { background: #eef; }
td.highlighted { border-color: #2a2; }
.score { color: #666; }
.missing { color: #a22; }
img { max-width: %(size)dpx; max-height: %(size)dpx; display: block; }
"""


def write_contact_sheet(
    path: str | os.PathLike,
    sections: Mapping[str, Sequence[tuple[SheetCell, Sequence[SheetCell]]]],
    title: str = "Search results",
    thumbnail_size: int = 160,
) -> Path:
    """Writes an HTML file needing no other files: per section a heading and a table, one row per
    (query, results) pair, query first.

    Highlighted cells (e.g. ground truth) get a green frame; scores print beside labels.
    """
    lines = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE % {'size': thumbnail_size}}</style>",
        f"</head><body><h1>{html.escape(title)}</h1>",
    ]
    for heading, rows in sections.items():
        lines.append(f"<h2>{html.escape(heading)}</h2><table>")
        for query, results in rows:
            query_html = _cell_html(query, thumbnail_size, "cell query")
            result_html = "".join(_cell_html(result, thumbnail_size, "cell") for result in results)
            lines.append(f"<tr>{query_html}{result_html}</tr>")
        lines.append("</table>")
    lines.append("</body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
