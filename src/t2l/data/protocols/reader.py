"""Read a protocol directory (``protocol.json`` + CSVs) for training and evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from t2l.data.splits.schema import load_split, read_table
from t2l.errors import UserError
from t2l.fsio import read_json

PROTOCOL_FILE = "protocol.json"


@dataclass(frozen=True)
class SplitRef:
    """One split file of a run: its rows index the class map ``classes``."""

    name: str
    dataset: str
    csv: Path
    classes: Path
    group: str = ""

    def rows(self) -> pd.DataFrame:
        return load_split(self.csv)

    def class_names(self) -> list[str]:
        table = read_table(self.classes)
        return table.sort_values("label", key=lambda s: s.astype(int))["class_name"].tolist()


@dataclass(frozen=True)
class Run:
    """One model to train within a protocol, and what to evaluate it on."""

    protocol: str
    name: str
    train: SplitRef
    val: SplitRef | None
    eval: tuple[SplitRef, ...]


def _ref(base: Path, entry: dict, name: str) -> SplitRef:
    return SplitRef(entry.get("name", name), entry["dataset"], base / entry["csv"], base / entry["classes"],
                    entry.get("group", ""))


def read_runs(protocol_dir: str | Path) -> list[Run]:
    base = Path(protocol_dir)
    path = base / PROTOCOL_FILE
    if not path.is_file():
        raise UserError(f"{path}: no protocol file (run `t2l protocols` first)")
    spec = read_json(path)
    return [Run(spec["protocol"], r["name"], _ref(base, r["train"], "train"),
                _ref(base, r["val"], "val") if r.get("val") else None,
                tuple(_ref(base, e, e["name"]) for e in r["eval"])) for r in spec["runs"]]

