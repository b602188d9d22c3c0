"""Extract one shard of a dataset's videos: ``python -m pipelines.shard DATASET INDEX SHARDS``.

Run in the project directory (a subprocess per shard, so shards are separate processes on any
task runner). Prints the shard's quarantine entries as one JSON line. A shard ends with the
process that started it (a cancelled flow), and its workers with it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from t2l import layout
from t2l.frames.extract import extract_videos, split_paths
from t2l.frames.pool import die_with_parent
from t2l.jobs import extract_config
from t2l.params import load

SPLITS, FRAMES = Path(layout.SPLITS), Path(layout.FRAMES)


def main(argv: list[str]) -> None:
    die_with_parent(os.getppid())
    dataset, index, shards = argv[0], int(argv[1]), int(argv[2])
    params = load()
    cfg = extract_config(params)
    root = Path(params["datasets"][dataset]["root"])
    paths = split_paths(SPLITS / dataset)[index::shards]
    quarantined = extract_videos(paths, root, FRAMES / dataset, cfg, desc=f"extract {dataset} {index + 1}/{shards}")
    print(json.dumps(quarantined))


if __name__ == "__main__":
    main(sys.argv[1:])
