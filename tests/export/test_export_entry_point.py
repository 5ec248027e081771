"""fusion-export (fusion_tf/cli/export.py) and export_run on a tiny trained run: output, replacing, refusing."""

import json

import pytest

from fusion_tf.export import EXPORT_INFO_FILE, read_export_info
from fusion_tf.export.tflite import TFLITE_INFO_FILE
from fusion_tf.orchestration.export_run import export_run

pytestmark = pytest.mark.slow


def test_script_exports_the_run_and_replaces_an_earlier_export(tiny_run, tmp_path, run_cli):
    export_dir = tmp_path / "serving" / "1"
    export_dir.mkdir(parents=True)
    (export_dir / EXPORT_INFO_FILE).write_text("{}\n")
    (export_dir / "stale.txt").write_text("left by the earlier export")

    completed = run_cli("export", f"--model_dir={tiny_run}", f"--export_dir={export_dir}")

    assert completed.returncode == 0, completed.stderr[-3000:]
    output = completed.stdout
    assert "configuration:" in output and "image_size" in output
    assert f"wrote {export_dir.resolve()} from the best checkpoint" in output
    for name in ("embed_image:", "embed_text:", "valid", "words_used", "dropped_words"):
        assert name in output
    assert (export_dir / "saved_model.pb").is_file()
    assert not (export_dir / "stale.txt").exists()
    info = read_export_info(export_dir)
    assert info["image_size"] == 75 and info["standardization"] == "fixed"
    assert info["vocabulary_size"] == 7  # the coloured squares' words
    assert info["source"]["model_dir"] == str(tiny_run.resolve())
    assert info["source"]["checkpoint"] == "best"
    # The tiny shards' manifest records no photo settings, so the builder's defaults apply.
    assert info["source"]["stored_image_settings_from"].startswith("builder defaults")


def test_a_folder_that_is_not_an_export_is_left_alone(tiny_run, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="holds no earlier export"):
        export_run(tiny_run, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_unknown_checkpoint_is_refused(tiny_run, tmp_path):
    with pytest.raises(ValueError, match="'final'"):
        export_run(tiny_run, tmp_path / "export", which="final")


def test_script_writes_the_litert_files_and_says_what_each_needs(tiny_run, tmp_path, run_cli):
    export_dir = tmp_path / "lite"

    completed = run_cli(
        "export", f"--model_dir={tiny_run}", f"--export_dir={export_dir}", "--format=tflite"
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = completed.stdout.splitlines()
    for stem in ("photo_embedder", "caption_image_embedder", "caption_embedder"):
        for name in (stem, f"{stem}_int8"):
            assert (export_dir / f"{name}.tflite").stat().st_size > 0
            (line,) = [line for line in lines if line.strip().startswith(f"{name}.tflite")]
            assert ("needs the Select TF ops" in line) == (stem == "caption_embedder"), line
    info = json.loads((export_dir / TFLITE_INFO_FILE).read_text())
    assert info["image_size"] == 75 and info["standardization"] == "fixed"
