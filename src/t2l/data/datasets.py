"""The ``datasets`` section of params.yaml: the one place that points the pipeline at data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from t2l.params import ParamsError, load, parse


@dataclass(frozen=True)
class DatasetSpec:
    adapter: str  # which adapter reads the official layout (see data/splits/adapters.py)
    root: str  # directory holding the videos; split paths are relative to it
    watch: str  # what DVC watches for changes of the dataset: its annotation files, or the whole (small) root
    options: dict = field(default_factory=dict)  # adapter-specific, e.g. annotation directories
    release: bool = True  # t2l validate compares class and video counts with the official release (false: a subset)


def configured(params: str | Path) -> dict[str, DatasetSpec]:
    entries = load(params).get("datasets") or {}
    if not entries:
        raise ParamsError(f"{params}: section 'datasets' is empty; name at least one dataset")
    return {name: parse(DatasetSpec, value, f"datasets.{name}") for name, value in entries.items()}
