"""Kinetics-400/600 adapter: annotation CSVs (``label,youtube_id,time_start,time_end,split``) -> splits.

A clip's file is ``<youtube_id>_<time_start:06d>_<time_end:06d>.<ext>``, found anywhere under its
split's video directory: the CVDF release keeps them flat (``train/<file>.mp4``), the ActivityNet
downloader in class folders (``train/<label>/<file>.mp4``). Clips whose file is missing (videos
deleted from YouTube) are left out, counted and listed in ``dataset.json``. Labels follow the
class names in alphabetical order.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from t2l.data.splits.annotations import csv_rows, fail, integer, resolve
from t2l.data.splits.schema import classes_frame, split_frame, write_dataset
from t2l.errors import UserError

COLUMNS = ["label", "youtube_id", "time_start", "time_end"]
VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".avi"}
CVDF = {"train": "annotations/train.csv", "val": "annotations/val.csv"}
SHOWN_MISSING = 20


def read_annotations(path: Path) -> list[tuple[str, str]]:
    """``(file stem, label)`` per clip of one annotation CSV."""
    clips, first_line = [], {}
    for line, row in csv_rows(path, COLUMNS):
        if not row["youtube_id"] or not row["label"]:
            raise fail(path, line, "empty youtube_id or label")
        start, end = (integer(path, line, row[c], c) for c in ("time_start", "time_end"))
        stem = f"{row['youtube_id']}_{start:06d}_{end:06d}"
        if stem in first_line:
            raise fail(path, line, f"duplicate clip id {stem!r} (first on line {first_line[stem]})")
        first_line[stem] = line
        clips.append((stem, row["label"]))
    return clips


def video_index(root: Path, video_dir: Path) -> dict[str, str]:
    """File stem -> path relative to root, for every video file under ``video_dir``."""
    if not video_dir.is_dir():
        raise UserError(f"{video_dir}: video directory does not exist")
    index = {}
    for folder, dirs, files in os.walk(video_dir):
        dirs.sort()
        for f in sorted(files):
            stem, ext = os.path.splitext(f)
            if ext.lower() in VIDEO_EXTENSIONS:
                index.setdefault(stem, os.path.relpath(os.path.join(folder, f), root).replace(os.sep, "/"))
    return index


def build(name: str, root: Path, out_dir: Path, annotations: dict[str, str] | None = None,
          videos: dict[str, str] | None = None) -> Path:
    """Write ``out_dir/name``: one split per entry of ``annotations`` (split -> CSV, relative to root;
    default the CVDF layout), videos under ``videos`` (split -> directory; default the split name)."""
    annotations = dict(annotations or CVDF)
    videos = dict(videos or {split: split for split in annotations})
    if set(videos) != set(annotations):
        raise UserError(f"dataset {name!r}: options 'videos' and 'annotations' must name the same splits")
    clips = {split: read_annotations(resolve(root, f)) for split, f in annotations.items()}
    cmap = classes_frame(sorted({label for rows in clips.values() for _, label in rows}))
    frames, missing = {}, {}
    for split, rows in clips.items():
        index = video_index(root, resolve(root, videos[split]))
        found = [(index[stem], label) for stem, label in rows if stem in index]
        lost = [stem for stem, _ in rows if stem not in index]
        missing[split] = {"count": len(lost), "of": len(rows), "first": lost[:SHOWN_MISSING]}
        frames[split] = split_frame(pd.DataFrame(found, columns=["path", "class_name"]), cmap, split, name)
    return write_dataset(out_dir, name, str(root), cmap, frames, {
        "adapter": "kinetics", "path_class": None,
        "annotations": {s: str(resolve(root, f)) for s, f in annotations.items()},
        "labels": "class names in alphabetical order", "missing_videos": missing})
