"""Settings dataclasses' fields checked from their declarations: choices in metadata, value types.

TrainConfig, BuildConfig and EvaluationConfig declare each setting once, as a field; these helpers
read the field's type and its `choices` so that no config repeats a check per field by hand.
"""

import dataclasses
import types
import typing


def choice(default, choices) -> dataclasses.Field:
    """A field whose value is one of `choices`, which the flags and `choice_problems` read."""
    return dataclasses.field(default=default, metadata={"choices": tuple(choices)})


def choice_problems(config) -> list[str]:
    """One line for each field of the dataclass instance whose value is not among its choices."""
    problems = []
    for field in dataclasses.fields(config):
        allowed = field.metadata.get("choices")
        value = getattr(config, field.name)
        if allowed is not None and value not in allowed:
            problems.append(f"--{field.name}={value!r} is not one of {sorted(allowed)}")
    return problems


class SettingTypeError(TypeError):
    """A setting's value is not of its field's type; the message names each such setting."""


def _type_name(annotation) -> str:
    if _is_union(annotation):
        return " or ".join(_type_name(kind) for kind in typing.get_args(annotation))
    if annotation is type(None):
        return "null"
    return getattr(typing.get_origin(annotation) or annotation, "__name__", str(annotation))


def _is_union(annotation) -> bool:
    return isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union


def _matches(value, annotation) -> bool:
    if _is_union(annotation):
        return any(_matches(value, kind) for kind in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    # bool is an int to Python, but "jit_compile": 1 or "epochs": true is a mistake in a file.
    if isinstance(value, bool):
        return annotation is bool
    if annotation is float:
        return isinstance(value, (int, float))  # JSON writes 1.0 as 1 where it likes
    return isinstance(value, typing.get_origin(annotation) or annotation)


def type_problems(config) -> list[str]:
    """One line for each field of the dataclass instance whose value is not of the declared type.

    A float field takes an int too; nothing is converted, so "false" is never read as True and
    2.5 epochs never as 2.
    """
    annotations = typing.get_type_hints(type(config))
    problems = []
    for field in dataclasses.fields(config):
        value, annotation = getattr(config, field.name), annotations[field.name]
        if not _matches(value, annotation):
            problems.append(
                f"{field.name}={value!r} is a {type(value).__name__}, expected {_type_name(annotation)}"
            )
    return problems
