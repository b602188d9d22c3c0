"""Read ``params.yaml`` (safe loader only) and turn one section into a stage's config dataclass."""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Any, TypeVar

from t2l.errors import UserError
from t2l.fsio import read_yaml

T = TypeVar("T")
DEFAULT_PARAMS = Path(os.environ.get("T2L_PARAMS", "params.yaml"))


class ParamsError(UserError):
    """params.yaml is missing a key, has an unknown key, or a value of the wrong kind."""


def load(path: str | os.PathLike = DEFAULT_PARAMS) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: no such params file")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: top level must be a mapping of stage sections")
    return data


def section(name: str, path: str | os.PathLike = DEFAULT_PARAMS) -> dict[str, Any]:
    data = load(path)
    if name not in data:
        raise ParamsError(f"{path}: missing section {name!r}")
    return data[name] or {}


def parse(cls: type[T], values: dict[str, Any], where: str) -> T:
    """Instantiate dataclass ``cls`` from ``values``; errors name ``where.key``.

    Nested dataclass fields are built recursively; lists become tuples where the field says so.
    """
    if not isinstance(values, dict):
        raise ParamsError(f"{where}: expected a mapping, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ParamsError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, f in fields.items():
        if name not in values:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ParamsError(f"{where}.{name}: required key is missing")
            continue
        kwargs[name] = _convert(values[name], hints[name], f"{where}.{name}")
    return cls(**kwargs)


def _convert(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return parse(hint, value, where)
    if origin is tuple and isinstance(value, (list, tuple)):
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ParamsError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin is dict and isinstance(value, dict):
        _, vt = typing.get_args(hint)
        return {k: _convert(v, vt, f"{where}.{k}") for k, v in value.items()}
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ParamsError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def as_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as plain JSON-able data (tuples become lists)."""
    return _plain(dataclasses.asdict(config))


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v
