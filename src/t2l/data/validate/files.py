"""Checks of single files: a class map, a split CSV against its class map and dataset root."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from t2l.data.splits.schema import read_table
from t2l.data.validate import gx_runner, suites

SPLIT_SHOWN = ["path", "label", "class_name"]
CLASS_SHOWN = ["label", "class_name"]


def class_map(path: Path) -> tuple[pd.DataFrame, dict]:
    classes = read_table(path)
    return classes, gx_runner.check("class_map", path, classes, suites.class_map_checks(classes), CLASS_SHOWN)


def split(path: Path, classes: pd.DataFrame, dataset: str, root: str,
          path_class: str | None) -> tuple[pd.DataFrame, dict]:
    """The split's rows (as read) and its record from the split suite."""
    frame = read_table(path)
    prepared = suites.prepare_split(frame, classes, root, path_class)
    return frame, gx_runner.check("split", path, prepared, suites.split_checks(prepared, classes, dataset), SPLIT_SHOWN)
