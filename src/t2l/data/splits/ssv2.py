"""Something-Something-v2 adapter: ``labels.json`` + ``train.json`` / ``validation.json`` -> splits.

``labels.json`` maps each class text ("Holding something next to something") to its id "0".."173";
labels keep those ids. Entries of the split files carry a ``template`` with bracketed placeholders
("Holding [something] next to [something]"): brackets stripped, it names the entry's class. Videos
are ``<videos>/<id>.<ext>`` (``20bn-something-something-v2/<id>.webm``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from t2l.data.splits.annotations import fail, json_items, resolve
from t2l.data.splits.schema import classes_frame, split_frame, write_dataset
from t2l.errors import UserError

SPLITS = {"train": "labels/train.json", "val": "labels/validation.json"}


def class_text(template: str) -> str:
    """"Holding [something] next to [something]" -> "Holding something next to something"."""
    return template.replace("[", "").replace("]", "")


def read_labels(path: Path) -> list[str]:
    """Class texts of ``labels.json`` in id order; ids must be 0..n-1, each once."""
    by_id: dict[int, str] = {}
    for line, text, cid in json_items(path):
        if text is None:
            raise fail(path, line, "labels.json must be an object {class text: id}")
        try:
            cid = int(cid)
        except (TypeError, ValueError):
            raise fail(path, line, f"class id must be an integer, got {cid!r}") from None
        if cid in by_id:
            raise fail(path, line, f"duplicate class id {cid} ({by_id[cid]!r} has it too)")
        if text in by_id.values():
            raise fail(path, line, f"duplicate class {text!r}")
        by_id[cid] = text
    if sorted(by_id) != list(range(len(by_id))):
        gaps = sorted(set(range(len(by_id))) - set(by_id))
        raise UserError(f"{path}: class ids must be 0..{len(by_id) - 1}; missing {gaps[:5]}")
    return [by_id[i] for i in range(len(by_id))]


def read_entries(path: Path, classes: set[str], videos: str, ext: str) -> pd.DataFrame:
    """Rows (path, class_name) of one split file."""
    rows, first_line = [], {}
    for line, _, entry in json_items(path):
        if not isinstance(entry, dict) or not {"id", "template"} <= set(entry):
            raise fail(path, line, "each entry needs 'id' and 'template'")
        vid, name = str(entry["id"]), class_text(str(entry["template"]))
        if name not in classes:
            raise fail(path, line, f"unknown class {name!r}")
        if vid in first_line:
            raise fail(path, line, f"duplicate video id {vid!r} (first on line {first_line[vid]})")
        first_line[vid] = line
        rows.append((f"{videos}/{vid}.{ext}", name))
    return pd.DataFrame(rows, columns=["path", "class_name"])


def build(name: str, root: Path, out_dir: Path, labels: str = "labels/labels.json",
          annotations: dict[str, str] | None = None, videos: str = "20bn-something-something-v2",
          ext: str = "webm") -> Path:
    """Write ``out_dir/name``: one split per entry of ``annotations`` (split -> JSON, relative to root)."""
    annotations = dict(annotations or SPLITS)
    names = read_labels(resolve(root, labels))
    cmap = classes_frame(names)
    frames = {split: split_frame(read_entries(resolve(root, f), set(names), videos, ext), cmap, split, name)
              for split, f in annotations.items()}
    return write_dataset(out_dir, name, str(root), cmap, frames, {
        "adapter": "ssv2", "path_class": None, "labels": "labels.json ids; class text = template without brackets"})
