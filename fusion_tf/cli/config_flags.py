"""Command-line flags generated from a config dataclass: a setting is declared once, as a field.

Each field becomes a flag of its name: its type picks the flag kind (bool, int, float, str, or
one of them or None), a `choices` entry in its metadata makes it an enum, and its help is the
field's entry in the class docstring's Args section (`name: type. Meaning.`). Flags default to
None, so a command line can tell the settings given from those left to an experiment or to the
dataclass default.
"""

import dataclasses
import re
import types
import typing

from absl import flags

_DEFINE_BY_TYPE = {
    bool: flags.DEFINE_bool,
    int: flags.DEFINE_integer,
    float: flags.DEFINE_float,
    str: flags.DEFINE_string,
}
_ARGUMENT = re.compile(r"^(?P<indent> +)(?P<name>\w+): (?P<text>.*)$")
_TYPE_PREFIX = re.compile(r"^[\w\[\], |]+\.\s+")  # "str. ", "int or None. "


def docstring_arguments(cls: type) -> dict[str, str]:
    """The Args section of a class docstring: each argument's text, continuation lines joined."""
    arguments, name, indent, in_section = {}, None, None, False
    for line in (cls.__doc__ or "").splitlines():
        if line.strip() == "Args:":
            in_section = True
            continue
        if not in_section:
            continue
        match = _ARGUMENT.match(line)
        if match and (indent is None or len(match["indent"]) == indent):
            name, indent = match["name"], len(match["indent"])
            arguments[name] = _TYPE_PREFIX.sub("", match["text"].strip())
        elif name and line.strip() and len(line) - len(line.lstrip()) > indent:
            arguments[name] += " " + line.strip()
        elif line.strip():
            break  # the next section
    return arguments


def _flag_kind(annotation):
    """The type a flag parses: the annotation, or X for `X | None`."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        kinds = [kind for kind in typing.get_args(annotation) if kind is not type(None)]
        return kinds[0] if len(kinds) == 1 else annotation
    return annotation


def define_config_flags(
    cls: type, flag_values: flags.FlagValues = flags.FLAGS, exclude: tuple[str, ...] = ()
) -> list[str]:
    """Defines one flag per field of the dataclass `cls`, but those in `exclude`; returns their names.

    Raises:
        TypeError: a field's type has no flag kind, or its docstring entry is missing.
    """
    helps = docstring_arguments(cls)
    annotations = typing.get_type_hints(cls)
    names = []
    for field in dataclasses.fields(cls):
        if field.name in exclude:
            continue
        if field.name not in helps:
            raise TypeError(f"{cls.__name__}.{field.name} has no entry in the docstring's Args")
        kind = _flag_kind(annotations[field.name])
        if kind not in _DEFINE_BY_TYPE:
            raise TypeError(f"{cls.__name__}.{field.name}: no flag kind for type {kind}")
        default = field.default
        if default is dataclasses.MISSING and field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        help_text = helps[field.name]
        if default is not dataclasses.MISSING and "Defaults to" not in help_text:
            help_text += f" {cls.__name__} default: {default!r}."
        choices = field.metadata.get("choices")
        if choices is not None:
            flags.DEFINE_enum(field.name, None, list(choices), help_text, flag_values=flag_values)
        else:
            _DEFINE_BY_TYPE[kind](field.name, None, help_text, flag_values=flag_values)
        names.append(field.name)
    return names


def given_values(cls: type, flag_values: flags.FlagValues = flags.FLAGS) -> dict:
    """The fields of `cls` whose flags were given on the command line, with their values."""
    return {
        field.name: flag_values[field.name].value
        for field in dataclasses.fields(cls)
        if field.name in flag_values and flag_values[field.name].present
    }
