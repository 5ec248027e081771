"""Every command a user runs is a console script of setup.py whose --help describes its flags."""

import ast
import os
import pathlib
import subprocess
import sys

import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]


def console_scripts() -> dict[str, str]:
    """name -> "module:function" from setup.py's entry_points."""
    tree = ast.parse((PROJECT_ROOT / "setup.py").read_text())
    [keyword] = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == "entry_points"
    ]
    scripts = ast.literal_eval(keyword.value)["console_scripts"]
    return dict(script.split("=", 1) for script in scripts)


def test_the_seven_commands_are_console_scripts_of_fusion_tf_cli():
    scripts = console_scripts()
    assert set(scripts) == {
        "fusion-train",
        "fusion-evaluate",
        "fusion-export",
        "fusion-search",
        "fusion-serve",
        "fusion-encode-caption",
        "fusion-build-tfrecords",
    }
    for target in scripts.values():
        module, function = target.split(":")
        assert module.startswith("fusion_tf.cli."), target
        # Read, not imported: each command defines its flags on absl's one global FLAGS.
        source = PROJECT_ROOT.joinpath(*module.split(".")).with_suffix(".py").read_text()
        functions = {
            node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)
        }
        assert function in functions, target


@pytest.mark.slow
@pytest.mark.parametrize("script, target", sorted(console_scripts().items()))
def test_help_lists_the_flags(script, target):
    module = target.split(":")[0]
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    # absl ends --help with exit status 1; anything but the usage text would show as a traceback.
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stdout.startswith(f"{script}: ")  # the module docstring names the command
    assert any(line.startswith("  --") for line in result.stdout.splitlines())
    if module == "fusion_tf.cli.train":
        assert "--input_config: <standard|config2>" in result.stdout
        assert "--mixed_precision: <none|float16|bfloat16>" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "command, script",
    [
        (["experiments/train.py"], "fusion-train"),
        (["experiments/evaluate.py"], "fusion-evaluate"),
        (["experiments/export.py"], "fusion-export"),
        (["experiments/search.py"], "fusion-search"),
        (["experiments/serve.py"], "fusion-serve"),
        (["-m", "tfrecords_builder"], "fusion-build-tfrecords"),
    ],
)
def test_the_checkout_wrappers_run_the_same_commands(command, script):
    result = subprocess.run(
        [sys.executable, *command, "--help"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stdout.startswith(f"{script}: ")
    assert any(line.startswith("  --") for line in result.stdout.splitlines())
