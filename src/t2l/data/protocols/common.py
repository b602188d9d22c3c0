"""Shared by the protocol builders: reading canonical splits, seeded sampling, writing a protocol.

``<out>/<protocol>/protocol.json``::

    {"protocol": "few_shot", "seed": 0, "made_by": {...what the builder did...},
     "runs": [{"name": "ucf101/k2/seed0",
               "train": {"dataset": "ucf101", "csv": "ucf101/k2/seed0/train.csv", "classes": "ucf101/classes.csv"},
               "val": null,
               "eval": [{"name": "ucf101/test1", "group": "ucf101", "dataset": "ucf101",
                         "csv": "ucf101/test1.csv", "classes": "ucf101/classes.csv"}]}]}

One run per model to train. ``csv``/``classes`` are relative to the protocol directory, the CSVs'
video paths relative to the root of ``dataset``, and labels in a CSV index its own class map.
``val`` is a held-out source split for model selection, or null. Metrics aggregate over ``group``.
"""

from __future__ import annotations

import os
import shutil
import zlib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd

from t2l.data.splits.schema import CLASSES_FILE, DATASET_FILE, classes_frame, dataset_info, load_split, read_table, split_frame
from t2l.errors import UserError
from t2l.fsio import TMP_MARK, write_csv, write_json

PROTOCOL_FILE = "protocol.json"


@dataclass(frozen=True)
class DatasetSplits:
    dataset: str
    train: str = "train"  # split the model trains on
    eval: str = "val"  # split it is evaluated on


def rng(*keys: int | str) -> np.random.Generator:
    """A generator seeded by ints and strings (strings through CRC-32): same keys, same draws."""
    return np.random.default_rng([k if isinstance(k, int) else zlib.crc32(str(k).encode()) for k in keys])


class SplitDir:
    """One dataset's canonical split directory ``<splits>/<dataset>``."""

    def __init__(self, splits_dir: str | Path, dataset: str):
        self.dataset, self.dir = dataset, Path(splits_dir) / dataset
        if not (self.dir / DATASET_FILE).is_file():
            raise UserError(f"{self.dir}: no canonical splits of dataset {dataset!r} (run `t2l splits` first)")
        self.files = {name: s["file"] for name, s in dataset_info(self.dir)["splits"].items()}
        classes = read_table(self.dir / CLASSES_FILE)
        self.classes = classes.sort_values("label", key=lambda s: s.astype(int))["class_name"].tolist()

    def split(self, name: str) -> pd.DataFrame:
        if name not in self.files:
            raise UserError(f"{self.dir}: dataset {self.dataset!r} has no split {name!r}; "
                            f"it has {', '.join(self.files)}")
        return load_split(self.dir / self.files[name])

    def matching(self, patterns: tuple[str, ...]) -> list[str]:
        """Split names matching any of the glob ``patterns``, in the dataset's order."""
        found = [s for s in self.files if any(fnmatch(s, p) for p in patterns)]
        if not found:
            raise UserError(f"{self.dir}: no split of {self.dataset!r} matches {list(patterns)}; "
                            f"it has {', '.join(self.files)}")
        return found


def per_class(rows: pd.DataFrame, names: list[str], k: int, keys: tuple, where: str,
              exact: bool = True) -> pd.DataFrame:
    """``k`` rows of each class in ``names``: the first k of a permutation of its rows (sorted by
    path) seeded by ``keys`` and the class name. Draws for one class do not depend on the others and
    the sets for growing k are nested. ``exact``: fewer than k rows is an error, else all are kept."""
    groups = {name: g.sort_values("path", kind="stable") for name, g in rows.groupby("class_name", sort=False)}
    parts = []
    for name in names:
        g = groups.get(name, rows.iloc[:0])
        if exact and len(g) < k:
            raise UserError(f"{where}: class {name!r} has {len(g)} video(s), fewer than the {k} needed")
        parts.append(g.iloc[np.sort(rng(*keys, name).permutation(len(g))[:k])])
    return pd.concat(parts) if parts else rows.iloc[:0]


def ref(dataset: str, csv: str, classes: str) -> dict:
    return {"dataset": dataset, "csv": csv, "classes": classes}


def evaluation(name: str, group: str, files: dict) -> dict:
    return {"name": name, "group": group, **files}


def run(name: str, train: dict, val: dict | None, evals: list[dict]) -> dict:
    return {"name": name, "train": train, "val": val, "eval": evals}


class ProtocolWriter:
    """Writes one protocol into a scratch directory, then puts it in place whole: a killed build
    leaves the previous protocol (and a scratch directory the next build removes)."""

    def __init__(self, out: str | Path, protocol: str):
        self.protocol, self.final = protocol, Path(out) / protocol
        self.dir = Path(out) / f".{protocol}{TMP_MARK}"
        if self.dir.exists():
            shutil.rmtree(self.dir)

    def classes(self, rel: str, names: list[str]) -> str:
        write_csv(self.dir / rel, classes_frame(list(names)))
        return rel

    def table(self, rel: str, rows: pd.DataFrame, names: list[str], split: str, dataset: str) -> str:
        """Rows of ``split`` relabelled by the class map ``names`` (which they must fit)."""
        write_csv(self.dir / rel, split_frame(rows, classes_frame(list(names)), split, dataset))
        return rel

    def finish(self, seed: int, made_by: dict, runs: list[dict]) -> dict:
        names = [r["name"] for r in runs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise UserError(f"protocols.{self.protocol}: run names {dupes} occur twice; list each dataset once")
        doc = {"protocol": self.protocol, "seed": seed, "made_by": made_by, "runs": runs}
        write_json(self.dir / PROTOCOL_FILE, doc)
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.dir, self.final)
        return doc
