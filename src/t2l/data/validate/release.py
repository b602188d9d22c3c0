"""A dataset against its official release: class count, and video files on disk where the release
fixes them (UCF-101, HMDB-51, SSv2). Kinetics clips deleted from YouTube are normal: counted, not failed."""

from __future__ import annotations

import os
from pathlib import Path

import great_expectations as gx
import pandas as pd

from t2l.data.splits.releases import RELEASES
from t2l.data.splits.schema import DATASET_FILE, dataset_info
from t2l.data.validate import gx_runner

E = gx.expectations


def count_files(root: str, ext: str) -> int:
    """Files under ``root`` whose name ends with ``ext`` (case-insensitive), at any depth."""
    return sum(name.lower().endswith(ext) for _, _, names in os.walk(root) for name in names)


def exactly(column: str, value: int, why: str):
    return E.ExpectColumnMaxToBeBetween(column=column, min_value=value, max_value=value, meta={"why": why})


def record(split_dir: Path, adapter: str, root: str) -> dict | None:
    """The release suite's record for one dataset, or None when its adapter has no official release."""
    release = RELEASES.get(adapter)
    if release is None:
        return None
    info = dataset_info(split_dir)
    row = {"classes": info["classes"]}
    checks = [exactly("classes", release.classes, f"the official {adapter} release has {release.classes} classes "
                                                  f"(a subset on purpose? set release: false for the dataset)")]
    if release.videos:
        row["videos"] = count_files(root, release.ext)
        checks.append(exactly("videos", release.videos, f"the official {adapter} release has {release.videos:,} "
                                                        f"{release.ext} files under the dataset root"))
    result = gx_runner.check("release", Path(split_dir) / DATASET_FILE, pd.DataFrame([row]), checks, [])
    missing = {s: m["count"] for s, m in info.get("missing_videos", {}).items()}
    return {**result, "observed": row, "missing_videos": missing}  # missing: normal for YouTube releases
