"""Imports run one way: no package imports one above it, not even inside a function (STYLE.md 9)."""

import ast
import pathlib

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("fusion_tf", "tfrecords_builder")

# Bottom to top. A module may import its own package and those on lower layers, never one on its
# own layer or above: the model never imports the pipeline that feeds it (keras-hub's backbones
# never import their preprocessors), and the exporter knows a model and its settings, never the
# trainer (Model Garden's export_base). Losses sit above models (the package may not exist yet).
LAYERS = (
    (
        "fusion_tf",
        "fusion_tf.modality",
        "fusion_tf.image_formats",
        "fusion_tf.image_files",
        "fusion_tf.config_fields",
        "fusion_tf.machine",
    ),
    ("fusion_tf.text",),
    ("fusion_tf.data", "fusion_tf.models"),
    ("tfrecords_builder",),
    ("fusion_tf.losses",),
    ("fusion_tf.evaluation",),
    ("fusion_tf.training", "fusion_tf.export"),
    ("fusion_tf.search",),
    ("fusion_tf.serve",),  # the web app over search; only the command line starts a server
    ("fusion_tf.configs",),
    ("fusion_tf.orchestration",),
    ("fusion_tf.cli",),
    ("tfrecords_builder.__main__",),  # `python -m tfrecords_builder`, a wrapper of fusion_tf.cli
)
# The builder writes what the library reads, so beside text and data it belongs to no library
# package: only whole runs and command lines may call it.
ONLY_IMPORTED_BY = {
    "tfrecords_builder": ("fusion_tf.orchestration", "fusion_tf.cli", "tfrecords_builder.__main__")
}
NEVER_IMPORTED = ("experiments",)  # scripts and benchmarks, not installed


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str | None:
    """The longest LAYERS entry that is the module or a package holding it."""
    units = [unit for layer in LAYERS for unit in layer]
    matches = [unit for unit in units if module == unit or module.startswith(unit + ".")]
    return max(matches, key=len) if matches else None


def layer_of(unit: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if unit in layer)


def imported_modules(path: pathlib.Path, module: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, at any depth."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            # `from fusion_tf import text` imports the package fusion_tf.text.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def library_files() -> list[pathlib.Path]:
    return sorted(file for package in PACKAGES for file in (PROJECT_ROOT / package).rglob("*.py"))


def violations() -> list[str]:
    problems = []
    for path in library_files():
        module = module_name(path)
        unit = unit_of(module)
        if unit is None:
            problems.append(f"{module}: its package has no place in LAYERS; add it there")
            continue
        for line, target in imported_modules(path, module):
            where = f"{path.relative_to(PROJECT_ROOT)}:{line} imports {target}"
            if target.split(".")[0] in NEVER_IMPORTED:
                problems.append(f"{where}: the library never imports {target.split('.')[0]}")
                continue
            if target.split(".")[0] not in PACKAGES:
                continue
            target_unit = unit_of(target)
            if target_unit is None:
                problems.append(f"{where}: {target} has no place in LAYERS")
            elif target_unit == unit:
                continue
            elif layer_of(target_unit) >= layer_of(unit):
                problems.append(
                    f"{where}: {unit} may not import {target_unit}, on its layer or above"
                )
            elif target_unit in ONLY_IMPORTED_BY and unit not in ONLY_IMPORTED_BY[target_unit]:
                problems.append(
                    f"{where}: only {ONLY_IMPORTED_BY[target_unit]} import {target_unit}"
                )
    return problems


def test_no_package_imports_one_above_it():
    problems = violations()
    assert not problems, "imports against the layers of tests/test_import_graph.py:\n" + "\n".join(
        problems
    )


def test_the_check_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text(
        "def late():\n    from fusion_tf.training import trainer\n    from . import schema\n"
    )
    found = imported_modules(source, "fusion_tf.data.probe")
    assert (2, "fusion_tf.training.trainer") in found
    assert (3, "fusion_tf.data.schema") in found
    assert layer_of(unit_of("fusion_tf.training.trainer")) > layer_of(unit_of("fusion_tf.data"))


def test_every_package_has_a_layer():
    packages = {module_name(path) for path in library_files() if path.name == "__init__.py"}
    assert all(unit_of(package) is not None for package in packages)
