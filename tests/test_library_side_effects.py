"""The library has no process-wide side effects and loads heavy optional dependencies only where used."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "sklearn", "faiss")


def run_python(code: str, **environment) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **environment},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_importing_fusion_tf_sets_no_environment_variable():
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, os; before = dict(os.environ); import fusion_tf, fusion_tf.text; "
            "print(json.dumps(dict(os.environ) == before))",
        ],
        env={**environment, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(result.stdout) is True, result.stderr[-2000:]


def test_importing_the_search_index_leaves_the_faiss_logger_alone():
    result = run_python(
        """
        import logging
        before = logging.getLogger("faiss.loader").level
        import fusion_tf.search
        print(logging.getLogger("faiss.loader").level == before)
        """
    )
    assert result.stdout.strip().endswith("True")


def export_and_trainer(data_dir: pathlib.Path) -> str:
    """Python that imports the exporter and constructs a Trainer on the tiny shards in data_dir."""
    return textwrap.dedent(
        f"""
        import fusion_tf.export
        from fusion_tf.training.config import TrainConfig
        from fusion_tf.training.trainer import Trainer

        Trainer(TrainConfig(data_dir={str(data_dir)!r}, model_dir={str(data_dir / "run")!r},
                            preset="tiny", image_size=75, images_per_batch=4, epochs=1))
        """
    )


@pytest.mark.slow
def test_export_and_trainer_need_neither_matplotlib_scikit_learn_nor_faiss(tmp_path, write_shards):
    # Keras 3 itself imports matplotlib and scikit-learn when they are installed, so the check is
    # that fusion_tf works where they cannot be imported at all, not what sys.modules holds.
    write_shards(tmp_path, {"train": 8, "val": 3})
    refuse = textwrap.dedent(
        f"""
        import importlib.abc, sys

        class Refuse(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {HEAVY!r}:
                    raise ImportError(f"{{name}} refused by the test")

        sys.meta_path.insert(0, Refuse())
        """
    )
    report = f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
    result = run_python(refuse + export_and_trainer(tmp_path) + report)
    assert result.stdout.strip().endswith("[]")


@pytest.mark.slow
def test_export_and_trainer_load_nothing_heavy_beyond_what_keras_loads(tmp_path, write_shards):
    write_shards(tmp_path, {"train": 8, "val": 3})
    loaded = f"sorted(name for name in {HEAVY!r} if name in sys.modules)"
    result = run_python(
        f"import json, sys\nimport keras\n\nby_keras = {loaded}\n"
        + export_and_trainer(tmp_path)
        + f"print(json.dumps([by_keras, {loaded}]))\n"
    )
    by_keras, after = json.loads(result.stdout.strip().splitlines()[-1])
    assert after == by_keras and "faiss" not in after
