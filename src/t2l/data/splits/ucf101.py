"""UCF-101 adapter: ``ucfTrainTestlist/`` -> splits ``train1..3`` and ``test1..3``.

``classInd.txt`` lists ``<id> <ClassFolder>`` with 1-based ids; label = id - 1, so the official class
order is kept. ``trainlist0k.txt`` lines are ``<ClassFolder>/v_<Class>_gNN_cNN.avi <id>``,
``testlist0k.txt`` lines the path alone (class from its folder). Class names are the folder names
de-CamelCased for text: "ApplyEyeMakeup" -> "apply eye makeup".
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from t2l.data.splits.annotations import expect_fields, fail, integer, resolve, text_fields
from t2l.data.splits.schema import classes_frame, split_frame, write_dataset

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def decamel(name: str) -> str:
    """"ApplyEyeMakeup" -> "apply eye makeup": a word starts at each capital after a lower-case
    letter or digit, and at the last capital of a run of capitals followed by lower case."""
    return _WORD_START.sub(" ", name).lower()


def class_index(path: Path) -> list[str]:
    """Class folders of ``classInd.txt`` in id order; ids must run 1..n."""
    folders = []
    for line, fields in text_fields(path):
        cid, folder = expect_fields(path, line, fields, 2, "<id> <ClassFolder>")
        cid = integer(path, line, cid, "class id")
        if folder in folders:
            raise fail(path, line, f"duplicate class {folder!r}")
        if cid != len(folders) + 1:
            kind = "duplicate class id" if 1 <= cid <= len(folders) else "class ids must run 1..n in order; got"
            raise fail(path, line, f"{kind} {cid}")
        folders.append(folder)
    if not folders:
        raise fail(path, 1, "no classes")
    return folders


def read_list(path: Path, folders: list[str], labelled: bool) -> pd.DataFrame:
    """Rows (path, class folder) of a train list (``<path> <id>``) or a test list (``<path>``)."""
    rows, seen = [], set()
    for line, fields in text_fields(path):
        fields = expect_fields(path, line, fields, 2 if labelled else 1,
                               "<Class>/<video>.avi <id>" if labelled else "<Class>/<video>.avi")
        video, folder = fields[0], fields[0].split("/")[0]
        if folder not in folders:
            raise fail(path, line, f"unknown class {folder!r}")
        if labelled:
            cid = integer(path, line, fields[1], "class id")
            if not 1 <= cid <= len(folders):
                raise fail(path, line, f"unknown class id {cid} (classInd.txt has 1..{len(folders)})")
            folder = folders[cid - 1]  # the list's label; validation checks it against the path
        if video in seen:
            raise fail(path, line, f"duplicate video {video!r}")
        seen.add(video)
        rows.append((video, folder))
    return pd.DataFrame(rows, columns=["path", "folder"])


def build(name: str, root: Path, out_dir: Path, annotations: str = "ucfTrainTestlist",
          splits: tuple[int, ...] = (1, 2, 3)) -> Path:
    """Write ``out_dir/name`` from the official lists under ``annotations`` (relative to root)."""
    ann = resolve(root, annotations)
    folders = class_index(ann / "classInd.txt")
    text = {f: decamel(f) for f in folders}
    cmap = classes_frame([text[f] for f in folders])
    frames = {}
    for k in splits:
        for kind, labelled in (("train", True), ("test", False)):
            rows = read_list(ann / f"{kind}list{int(k):02d}.txt", folders, labelled)
            rows["class_name"] = rows["folder"].map(text)
            frames[f"{kind}{k}"] = split_frame(rows, cmap, f"{kind}{k}", name)
    return write_dataset(out_dir, name, str(root), cmap, frames, {
        "adapter": "ucf101", "path_class": "ucf101", "annotations": str(ann),
        "labels": "classInd.txt id - 1; class names de-CamelCased folder names"})
