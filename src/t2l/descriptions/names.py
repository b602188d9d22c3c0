"""Class names: the class map's order, and one readable form that matches names across spellings."""

from __future__ import annotations

import re
from pathlib import Path

from t2l.data.splits.schema import CLASSES_FILE, normalise_class_name, read_table


def class_names(splits_dir: Path, dataset: str) -> list[str]:
    """Class names of ``dataset`` in label order, from its ``classes.csv``."""
    frame = read_table(Path(splits_dir) / dataset / CLASSES_FILE)
    return list(frame.assign(label=frame["label"].astype(int)).sort_values("label")["class_name"])


def readable(name: str) -> str:
    """``ApplyEyeMakeup``, ``apply_eye_makeup`` and ``Apply eye-makeup`` all become ``apply eye makeup``."""
    return normalise_class_name(re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(name)))
