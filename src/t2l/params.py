"""Read ``params.yaml`` (safe loader only) and turn one section into a stage's config dataclass.

Config fields say what they accept: ``Literal[...]`` for a choice, ``Annotated[int, Range(...)]``
(or the aliases below) for a bounded number, ``Annotated[str, OneOf(registry)]`` for a registered
name; a value outside is one line naming its key.
"""

from __future__ import annotations

import dataclasses
import operator
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from t2l.errors import UserError
from t2l.fsio import read_yaml

T = TypeVar("T")
DEFAULT_PARAMS = Path(os.environ.get("T2L_PARAMS", "params.yaml"))


class ParamsError(UserError):
    """params.yaml is missing a key, has an unknown key, or a value of the wrong kind."""


@dataclass(frozen=True)
class Range:
    """Bounds of a number: ``at_least``/``at_most`` inclusive, ``above``/``below`` exclusive."""

    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None

    def problem(self, value: float) -> str | None:
        """What is wrong with ``value``, or None."""
        bounds = [(op, bound, holds) for op, bound, holds in ((">=", self.at_least, operator.ge), (">", self.above, operator.gt),
                                                              ("<=", self.at_most, operator.le), ("<", self.below, operator.lt))
                  if bound is not None]
        if all(holds(value, bound) for _, bound, holds in bounds):
            return None
        return "must be " + " and ".join(f"{op} {bound:g}" for op, bound, _ in bounds)


@dataclass(frozen=True)
class OneOf:
    """A name from a registry (``Annotated[str, OneOf(DECODERS)]``), read when checked."""

    choices: Any

    def problem(self, value: Any) -> str | None:
        return None if value in self.choices else f"expected one of {', '.join(map(str, self.choices))}"


Count = Annotated[int, Range(at_least=1)]  # epochs, batch sizes, frames, steps
NonNegative = Annotated[int, Range(at_least=0)]  # workers (0: in the main process), seeds
Positive = Annotated[float, Range(above=0)]  # learning rates, time limits
NonNegativeFloat = Annotated[float, Range(at_least=0)]  # loss weights, weight decay, clipping
Fraction = Annotated[float, Range(at_least=0, below=1)]  # warmup share, dropout

# Every top-level section a params file may have (each stage reads its own).
SECTIONS = ("profile", "datasets", "worlds", "standin", "weights", "clip", "synth", "protocols", "extract", "describe",
            "entities", "pretrain", "model", "train", "jobs", "evaluations", "evaluate", "figures", "track", "register",
            "orchestrate", "bench")


def load(path: str | os.PathLike = DEFAULT_PARAMS) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: no such params file")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: top level must be a mapping of stage sections")
    unknown = [k for k in data if k not in SECTIONS]
    if unknown:
        raise ParamsError(f"{path}: unknown section(s) {', '.join(map(str, unknown))}; known: {', '.join(SECTIONS)}")
    empty = [k for k, v in data.items() if v is None]
    if empty:
        raise ParamsError(f"{path}: section(s) {', '.join(empty)} empty (null); give their keys, or {{}} for none")
    return data


def section(name: str, path: str | os.PathLike = DEFAULT_PARAMS) -> dict[str, Any]:
    data = load(path)
    if name not in data:
        raise ParamsError(f"{path}: missing section {name!r}")
    return data[name]


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
    hints = typing.get_type_hints(cls, include_extras=True)
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
    if origin is Annotated:
        base, *bounds = typing.get_args(hint)
        value = _convert(value, base, where)
        for problem in (b.problem(value) for b in bounds if isinstance(b, (Range, OneOf))):
            if problem:
                raise ParamsError(f"{where}: {problem}, got {value!r}")
        return value
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise ParamsError(f"{where}: expected one of {', '.join(map(repr, typing.get_args(hint)))}, got {value!r}")
        return value
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
        kt, vt = typing.get_args(hint)
        return {_convert(k, kt, where): _convert(v, vt, f"{where}.{k}") for k, v in value.items()}
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"{where}: expected a number, got {value!r}")
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
