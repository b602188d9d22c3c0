"""Adapter for a dataset of the embedded world: ``clips.csv`` + ``classes.txt`` -> canonical splits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from t2l.data.splits.schema import classes_frame, split_frame, write_dataset
from t2l.data.synth.world import CLASSES_FILE, CLIPS_FILE


def build(name: str, root: Path, out_dir: Path) -> Path:
    """Write ``out_dir/name`` with one split file per split of the world's manifest."""
    clips = pd.read_csv(root / CLIPS_FILE)
    cmap = classes_frame((root / CLASSES_FILE).read_text().split("\n")[:-1])
    splits = {s: split_frame(g, cmap, s, name) for s, g in clips.groupby("split", sort=True)}
    return write_dataset(out_dir, name, str(root), cmap, splits, {
        "source": "embedded world (t2l synth)", "adapter": "synthetic", "path_class": "synthetic"})
