"""Settings of the wrong type fail on construction and on load, naming the key, value and type."""

import json

import pytest

from fusion_tf.config_fields import choice_problems, type_problems
from fusion_tf.training.config import CONFIG_FILE, TrainConfig
from tfrecords_builder import BuildConfig, BuildError


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("jit_compile", "false", "jit_compile='false' is a str, expected bool"),
        ("epochs", "3", "epochs='3' is a str, expected int"),
        ("epochs", 2.5, "epochs=2.5 is a float, expected int"),
        ("epochs", True, "epochs=True is a bool, expected int"),
        ("learning_rate", "0.001", "learning_rate='0.001' is a str, expected float"),
    ],
)
def test_config_json_values_of_the_wrong_type_name_the_key(tmp_path, key, value, expected):
    settings = json.loads(TrainConfig(data_dir="d", model_dir=str(tmp_path)).to_json())
    (tmp_path / CONFIG_FILE).write_text(json.dumps({**settings, key: value}))
    with pytest.raises(TypeError) as error:
        TrainConfig.load(tmp_path)
    assert expected in str(error.value)
    assert str(tmp_path / CONFIG_FILE) in str(error.value)


def test_construction_checks_types_and_accepts_whole_floats():
    with pytest.raises(TypeError, match="image_size=256.0 is a float, expected int"):
        TrainConfig(image_size=256.0)
    assert TrainConfig(learning_rate=1).learning_rate == 1  # JSON may write 1.0 as 1


def test_optional_and_container_types():
    config = BuildConfig("shapes", "out", data_dir=None, source_options={}, num_workers=None)
    assert type_problems(config) == []
    config = BuildConfig("shapes", "out", source_options="seed=1", num_workers="2")
    assert type_problems(config) == [
        "source_options='seed=1' is a str, expected dict",
        "num_workers='2' is a str, expected int or null",
    ]


def test_one_choice_check_serves_train_and_build_configs():
    assert choice_problems(TrainConfig(preset="huge")) == [
        "--preset='huge' is not one of ['facenet', 'small', 'tiny']"
    ]
    with pytest.raises(BuildError, match=r"--on_error='ignore' is not one of \['fail', 'skip'\]"):
        BuildConfig("shapes", "out", on_error="ignore").resolved()
    with pytest.raises(BuildError, match="--dataset='flickr9k' is not one of"):
        BuildConfig("flickr9k", "out").resolved()
