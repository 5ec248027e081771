"""Flags generated from config dataclasses: one per field, its choices and docstring help, given ones told apart."""

import dataclasses

import pytest
from absl import flags

from fusion_tf.cli.config_flags import define_config_flags, docstring_arguments, given_values
from fusion_tf.training.config import TrainConfig


@dataclasses.dataclass
class Example:
    """A config.

    Args:
        name: str. What it is called, on a line
            and the next.
        size: int. How large.
        kind: str. Which kind.
        fast: bool. Whether to hurry.

    Raises:
        Nothing: a section after Args.
    """

    name: str = "x"
    size: int = 3
    kind: str = dataclasses.field(default="a", metadata={"choices": ("a", "b")})
    fast: bool = False


def parsed(cls, *arguments) -> flags.FlagValues:
    flag_values = flags.FlagValues()
    define_config_flags(cls, flag_values)
    flag_values(["program", *arguments])
    return flag_values


def test_docstring_arguments_join_continuation_lines_and_drop_the_type():
    arguments = docstring_arguments(Example)
    assert arguments["name"] == "What it is called, on a line and the next."
    assert arguments["fast"] == "Whether to hurry."
    assert "Nothing" not in arguments


def test_every_field_is_a_flag_of_its_kind_with_its_choices():
    flag_values = parsed(Example, "--size=7", "--kind=b", "--fast")
    assert given_values(Example, flag_values) == {"size": 7, "kind": "b", "fast": True}
    assert flag_values["kind"].parser.enum_values == ["a", "b"]
    assert flag_values["name"].value is None  # not given: the experiment or the default decides
    assert "What it is called" in flag_values["name"].help and "'x'" in flag_values["name"].help
    with pytest.raises(flags.IllegalFlagValueError):
        flag_values["kind"].parse("c")


def test_a_field_without_documentation_is_refused():
    @dataclasses.dataclass
    class Undocumented:
        """Nothing listed."""

        size: int = 1

    with pytest.raises(TypeError, match="Undocumented.size has no entry"):
        define_config_flags(Undocumented, flags.FlagValues())


def test_train_config_flags_carry_the_choices_of_the_code_that_reads_them():
    from fusion_tf.data.pipeline import INPUT_CONFIGS
    from fusion_tf.models.inception_resnet_v1 import PRESETS
    from fusion_tf.training.precision import MIXED_PRECISION

    flag_values = parsed(TrainConfig, "--input_config=config2", "--preset=tiny")
    assert {field.name for field in dataclasses.fields(TrainConfig)} <= set(flag_values)
    assert flag_values["input_config"].parser.enum_values == list(INPUT_CONFIGS)
    assert flag_values["preset"].parser.enum_values == list(PRESETS)
    assert flag_values["mixed_precision"].parser.enum_values == list(MIXED_PRECISION)
    assert given_values(TrainConfig, flag_values) == {"input_config": "config2", "preset": "tiny"}
    for field in dataclasses.fields(TrainConfig):
        assert flag_values[field.name].help.strip(), field.name


def test_validate_checks_the_same_choices():
    config = TrainConfig(data_dir="d", model_dir="m", preset="huge", input_config="config3")
    with pytest.raises(ValueError) as error:
        config.validate()
    assert "--preset='huge'" in str(error.value) and "--input_config='config3'" in str(error.value)


def test_a_run_saved_before_the_renames_still_loads(tmp_path):
    (tmp_path / "config.json").write_text('{"config": "config2", "model": "tiny"}')
    loaded = TrainConfig.load(tmp_path)
    assert (loaded.input_config, loaded.preset) == ("config2", "tiny")


def test_build_config_flags_cover_optional_fields_and_leave_out_the_excluded():
    from fusion_tf.data.sources import DATASETS
    from tfrecords_builder.config import BuildConfig

    flag_values = flags.FlagValues()
    define_config_flags(BuildConfig, flag_values, exclude=("source_options",))
    flag_values(["program", "--dataset=custom", "--output_dir=out", "--num_workers=2"])
    assert "source_options" not in flag_values
    assert flag_values["dataset"].parser.enum_values == list(DATASETS)
    config = BuildConfig(**given_values(BuildConfig, flag_values))
    assert (config.dataset, config.output_dir, config.num_workers) == ("custom", "out", 2)
    assert config.jpeg_quality == BuildConfig.jpeg_quality  # not given: the dataclass default
