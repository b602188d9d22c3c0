"""HMDB-51 adapter: ``testTrainMulti_7030_splits/`` -> splits ``train1..3`` and ``test1..3``.

Each ``<class>_test_split<k>.txt`` lists ``<video>.avi <marker>`` (1 = train, 2 = test, 0 = unused).
Labels follow the class folders in alphabetical order; class names are the folders with ``_`` as
spaces. Videos are looked up where they are (``<folder>/<video>.avi``), not where the split file
says, so a split file listing another class's videos shows up in validation.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd

from t2l.data.splits.annotations import expect_fields, fail, resolve, text_fields
from t2l.data.splits.schema import classes_frame, split_frame, write_dataset
from t2l.errors import UserError

MARKERS = {"1": "train", "2": "test", "0": None}
_SPLIT_FILE = re.compile(r"(.+)_test_split\d+\.txt")


def video_index(root: Path) -> dict[str, list[str]]:
    """Video file name -> its paths ``<folder>/<name>`` under root."""
    index: dict[str, list[str]] = {}
    for p in sorted(root.glob("*/*.avi")):
        index.setdefault(p.name, []).append(f"{p.parent.name}/{p.name}")
    return index


def locate(video: str, folder: str, index: dict[str, list[str]]) -> str:
    """The video's path: in its listed folder if there, else its one location elsewhere."""
    listed = f"{folder}/{video}"
    found = index.get(video, [])
    return listed if listed in found or len(found) != 1 else found[0]


def read_split_file(path: Path) -> tuple[list[tuple[str, str]], int]:
    """``(video, split)`` pairs of one class's split file and the number of unused videos."""
    pairs, seen, unused = [], set(), 0
    for line, fields in text_fields(path):
        video, marker = expect_fields(path, line, fields, 2, "<video>.avi <marker>")
        if marker not in MARKERS:
            raise fail(path, line, f"marker must be 0 (unused), 1 (train) or 2 (test), got {marker!r}")
        if video in seen:
            raise fail(path, line, f"duplicate video {video!r}")
        seen.add(video)
        if MARKERS[marker]:
            pairs.append((video, MARKERS[marker]))
        else:
            unused += 1
    return pairs, unused


def build(name: str, root: Path, out_dir: Path, annotations: str = "testTrainMulti_7030_splits",
          splits: tuple[int, ...] = (1, 2, 3)) -> Path:
    """Write ``out_dir/name`` from the split files under ``annotations`` (relative to root)."""
    ann = resolve(root, annotations)
    folders = sorted({m[1] for p in ann.glob("*_test_split*.txt") if (m := _SPLIT_FILE.fullmatch(p.name))})
    if not folders:
        raise UserError(f"{ann}: no <class>_test_split<k>.txt files (HMDB-51 testTrainMulti_7030_splits)")
    text = {f: f.replace("_", " ") for f in folders}
    cmap = classes_frame([text[f] for f in folders])
    index = video_index(root)
    frames, unused = {}, Counter()
    for k in splits:
        rows = []
        for folder in folders:
            path = ann / f"{folder}_test_split{int(k)}.txt"
            if not path.is_file():
                raise UserError(f"{path}: missing split file of class {folder!r} (split {k})")
            pairs, n_unused = read_split_file(path)
            unused[f"split{k}"] += n_unused
            rows += [(locate(v, folder, index), text[folder], f"{split}{k}") for v, split in pairs]
        table = pd.DataFrame(rows, columns=["path", "class_name", "split"])
        for split in ("train", "test"):
            frames[f"{split}{k}"] = split_frame(table[table["split"] == f"{split}{k}"], cmap, f"{split}{k}", name)
    return write_dataset(out_dir, name, str(root), cmap, frames, {
        "adapter": "hmdb51", "path_class": "hmdb51", "annotations": str(ann),
        "labels": "class folders in alphabetical order", "unused_videos": dict(unused)})
