"""The GPU check script in its reduced CPU mode, so it does not rot between GPU sessions."""

import os
import pathlib
import subprocess
import sys

import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_reduced_gpu_check_writes_its_figures(tmp_path, flickr8k_trainval_dir):
    environment = {
        **os.environ,
        "OUT": str(tmp_path / "out"),
        "GPU_CHECK_DATA": str(tmp_path / "carry"),
        "PYTHON": sys.executable,
    }
    result = subprocess.run(
        ["bash", str(PROJECT_ROOT / "experiments" / "gpu_check.sh"), "--reduced"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    report = (tmp_path / "out" / "gpu_check.md").read_text()
    assert "samples/s" in report and "% of matmul" in report
    assert "validation:" in report and "image-to-text" in report
    assert (tmp_path / "carry" / "shards" / "manifest.json").is_file()
