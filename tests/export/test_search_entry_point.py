"""fusion-search (fusion_tf/cli/search.py) against a real export: text to gallery, photo to captions, the cached index."""

import cv2
import numpy as np
import pytest

from fusion_tf.orchestration.export_run import export_run


@pytest.fixture(scope="module")
def export_dir(tiny_run, tmp_path_factory):
    return export_run(tiny_run, tmp_path_factory.mktemp("search") / "export")


@pytest.mark.slow
def test_text_to_gallery_and_photo_to_captions(export_dir, tmp_path, run_cli):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    for index in range(4):
        cv2.imwrite(str(gallery / f"photo_{index}.jpg"), np.full((50, 60, 3), index * 60, np.uint8))
    (gallery / "broken.jpg").write_bytes(b"not an image")
    arguments = [f"--saved_model={export_dir}", f"--gallery={gallery}", "--k=3"]
    first = run_cli(
        "search", *arguments, f"--html={tmp_path / 'sheet.html'}", "red square", "blue circle"
    )
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.count(" 1. ") == 2 and "photo_" in first.stdout
    assert "broken.jpg" in first.stdout  # skipped and listed, never silently
    assert (gallery / ".fusion_index").is_dir() and (tmp_path / "sheet.html").is_file()
    second = run_cli("search", *arguments, "red square")
    assert second.returncode == 0 and "loaded from cache" in second.stdout

    captions = tmp_path / "captions.txt"
    captions.write_text("red square\nblue circle big\n\ngreen small square\n")
    by_photo = run_cli(
        "search",
        f"--saved_model={export_dir}",
        f"--image={gallery / 'photo_1.jpg'}",
        f"--captions={captions}",
        "--k=2",
    )
    assert by_photo.returncode == 0, by_photo.stderr[-3000:]
    assert "(line " in by_photo.stdout


def test_usage_errors_are_one_clear_line(export_dir, tmp_path, run_cli):
    missing = run_cli("search", f"--saved_model={tmp_path}", f"--gallery={tmp_path}", "a dog")
    assert missing.returncode == 2 and "is not a SavedModel" in missing.stderr
    no_query = run_cli("search", f"--saved_model={export_dir}", f"--gallery={tmp_path}")
    assert no_query.returncode != 0 and "at least one text query" in no_query.stderr
