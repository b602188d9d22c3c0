"""The canonical split schema shared by every dataset and protocol.

A dataset directory ``data/splits/<dataset>/`` holds ``classes.csv`` (``label,class_name``), one
CSV per split (``path,label,class_name,split,dataset``; ``path`` relative to the dataset root)
and ``dataset.json`` describing how the files were made.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from t2l.errors import UserError
from t2l.fsio import read_json, write_csv, write_json

SPLIT_COLUMNS = ["path", "label", "class_name", "split", "dataset"]
CLASS_COLUMNS = ["label", "class_name"]
CLASSES_FILE = "classes.csv"
DATASET_FILE = "dataset.json"


def classes_frame(names: list[str]) -> pd.DataFrame:
    """Class map with labels 0..n-1 in the given order."""
    return pd.DataFrame({"label": range(len(names)), "class_name": names})


def split_frame(rows: pd.DataFrame, classes: pd.DataFrame, split: str, dataset: str) -> pd.DataFrame:
    """Rows with ``path`` and ``class_name`` -> canonical split rows (labels from the class map)."""
    label_of = dict(zip(classes["class_name"], classes["label"]))
    unknown = sorted(set(rows["class_name"]) - set(label_of))
    if unknown:
        raise UserError(f"{dataset}/{split}: classes not in the class map: {unknown[:5]}")
    out = pd.DataFrame({"path": rows["path"].to_numpy(), "class_name": rows["class_name"].to_numpy()})
    out["label"] = out["class_name"].map(label_of).astype(int)
    out["split"], out["dataset"] = split, dataset
    return out[SPLIT_COLUMNS].sort_values(["label", "path"], kind="stable").reset_index(drop=True)


def write_dataset(out_dir: str | Path, dataset: str, root: str, classes: pd.DataFrame,
                  splits: dict[str, pd.DataFrame], notes: dict | None = None) -> Path:
    """Write ``classes.csv``, one CSV per split and ``dataset.json`` under ``out_dir/dataset``."""
    d = Path(out_dir) / dataset
    write_csv(d / CLASSES_FILE, classes[CLASS_COLUMNS])
    for name, frame in splits.items():
        write_csv(d / f"{name}.csv", frame[SPLIT_COLUMNS])
    write_json(d / DATASET_FILE, {
        "dataset": dataset, "root": str(root), "classes": len(classes),
        "splits": {name: {"file": f"{name}.csv", "rows": len(f)} for name, f in splits.items()},
        **(notes or {}),
    })
    return d


def read_table(path: str | Path) -> pd.DataFrame:
    """A split or class-map CSV as strings (no coercion: validation judges the raw values)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such split file")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not a readable CSV ({e})") from None


def normalise_class_name(name: str) -> str:
    """Lower case, ``_``/``-`` as spaces, other punctuation dropped, single spaces."""
    name = re.sub(r"[_\-]+", " ", str(name).lower())
    return " ".join(re.sub(r"[^a-z0-9 ]+", "", name).split())


def dataset_info(split_dir: str | Path) -> dict:
    """``dataset.json`` of a canonical split directory; a UserError if the dataset has none."""
    path = Path(split_dir) / DATASET_FILE
    if not path.is_file():
        raise UserError(f"{split_dir}: no canonical splits of dataset {Path(split_dir).name!r} (no {DATASET_FILE}); "
                        "`t2l splits` writes them for every dataset params.yaml configures")
    return read_json(path)


def load_split(path: str | Path) -> pd.DataFrame:
    """A validated split CSV with integer labels, for readers downstream of ``validate``."""
    frame = read_table(path)
    frame["label"] = frame["label"].astype(int)
    return frame
