"""Generic adapter for published split lists: ``<relative/path> <label id>`` lines + an ``id,name`` CSV.

This is the format of the ViFi-CLIP / TC-CLIP protocol files, so their splits can be reproduced
exactly. Labels follow the label CSV's ids in increasing order (ids 0..n-1 stay as they are).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from t2l.data.splits.annotations import csv_rows, expect_fields, fail, integer, read_text, resolve
from t2l.data.splits.path_class import RULES
from t2l.data.splits.schema import classes_frame, split_frame, write_dataset
from t2l.errors import UserError

LISTS = {"train": "train.txt", "val": "val.txt"}


def read_label_csv(path: Path) -> dict[int, str]:
    """id -> class name; ids and names each unique."""
    names: dict[int, str] = {}
    for line, row in csv_rows(path, ["id", "name"]):
        cid = integer(path, line, row["id"], "id")
        if cid in names:
            raise fail(path, line, f"duplicate id {cid}")
        if row["name"] in names.values():
            raise fail(path, line, f"duplicate class name {row['name']!r}")
        names[cid] = row["name"]
    if not names:
        raise UserError(f"{path}: no classes")
    return names


def read_list(path: Path, names: dict[int, str]) -> pd.DataFrame:
    """Rows (path, class_name) of one ``<path> <id>`` list (the path may contain spaces)."""
    rows, first_line = [], {}
    for line, text in enumerate(read_text(path).splitlines(), 1):
        if not text.strip():
            continue
        video, cid = expect_fields(path, line, text.strip().rsplit(None, 1), 2, "<relative/path> <label id>")
        cid = integer(path, line, cid, "label id")
        if cid not in names:
            raise fail(path, line, f"unknown class id {cid}")
        if video in first_line:
            raise fail(path, line, f"duplicate video {video!r} (first on line {first_line[video]})")
        first_line[video] = line
        rows.append((video, names[cid]))
    return pd.DataFrame(rows, columns=["path", "class_name"])


def build(name: str, root: Path, out_dir: Path, labels: str = "labels.csv", lists: dict[str, str] | None = None,
          path_class: str | None = None) -> Path:
    """Write ``out_dir/name``: one split per entry of ``lists`` (split -> list file, relative to root).
    ``path_class`` names the rule of a dataset whose paths encode the class (``ucf101``, ``hmdb51``)."""
    if path_class is not None and path_class not in RULES:
        raise UserError(f"dataset {name!r}: path_class must be one of {sorted(RULES)} or null, got {path_class!r}")
    lists = dict(lists or LISTS)
    names = read_label_csv(resolve(root, labels))
    cmap = classes_frame([names[i] for i in sorted(names)])
    frames = {split: split_frame(read_list(resolve(root, f), names), cmap, split, name) for split, f in lists.items()}
    return write_dataset(out_dir, name, str(root), cmap, frames, {
        "adapter": "generic", "path_class": path_class, "labels": "label CSV ids in increasing order"})
