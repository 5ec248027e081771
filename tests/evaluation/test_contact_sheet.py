"""Tests for the HTML contact sheet: embedded thumbnails, escaping, highlights, unreadable images."""

import base64
import re

import cv2
import numpy as np

from fusion_tf.evaluation.contact_sheet import SheetCell, load_thumbnail, write_contact_sheet


def _encoded_image(height, width):
    ok, encoded = cv2.imencode(".png", np.full((height, width, 3), (10, 20, 200), dtype=np.uint8))
    assert ok
    return encoded.tobytes()


def test_load_thumbnail_keeps_aspect_and_converts_to_rgb(tmp_path):
    thumbnail = load_thumbnail(_encoded_image(100, 400), size=80)
    assert thumbnail.shape == (20, 80, 3)
    np.testing.assert_array_equal(thumbnail[0, 0], [200, 20, 10])
    assert load_thumbnail(b"garbage", 80) is None
    assert load_thumbnail(tmp_path / "missing.jpg", 80) is None


def test_sheet_is_self_contained(tmp_path):
    image_file = tmp_path / "photo.png"
    image_file.write_bytes(_encoded_image(50, 50))
    rows = [
        (
            SheetCell(text="a <dog> & a cat"),
            [
                SheetCell(text="photo.png", image=image_file, score=0.91234, highlighted=True),
                SheetCell(text="bytes", image=_encoded_image(30, 60), score=0.5),
                SheetCell(text="broken", image=b"nope", score=0.1),
            ],
        )
    ]
    page = write_contact_sheet(
        tmp_path / "out" / "sheet.html", {"Results": rows}, title="T"
    ).read_text()
    assert "a &lt;dog&gt; &amp; a cat" in page
    assert "0.912" in page and "cell highlighted" in page and "(unreadable image)" in page
    uris = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', page)
    assert len(uris) == 2
    decoded = cv2.imdecode(
        np.frombuffer(base64.b64decode(uris[0]), dtype=np.uint8), cv2.IMREAD_COLOR
    )
    assert decoded.shape == (50, 50, 3)
    # No reference to anything outside the file.
    assert 'src="http' not in page and str(image_file) not in page
